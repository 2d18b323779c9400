// STARTTLS (RFC 3207). Whatever the client pipelined behind it is discarded (section 4.2: a man in
// the middle may have put it there), and the client must say EHLO again (section 4.2).
import type { SmtpCommand } from '../command.ts';

export const starttls: SmtpCommand = {
  names: ['STARTTLS'],
  afterHelo: true,
  handle(context, _verb, argument) {
    if (argument !== '') return context.send('501 5.5.4 STARTTLS takes no argument');
    if (context.secure) return context.send('503 5.5.1 TLS is already active');
    if (!context.starttlsOffered) return context.send('502 5.5.1 STARTTLS is not offered here');
    context.send('220 2.0.0 Ready to start TLS');
    context.helo = undefined;
    context.startTls();
  },
};
