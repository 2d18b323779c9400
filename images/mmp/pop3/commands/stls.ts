// STLS (RFC 2595 section 4). What the client pipelined behind it is discarded, as for IMAP STARTTLS.
import { pop3Command } from '../command.ts';

export const stls = pop3Command<[]>({
  name: 'STLS',
  states: ['authorization'],
  grammar: [],
  handle(context) {
    if (context.secure) return context.send('-ERR TLS is already active');
    if (!context.starttlsOffered) return context.send('-ERR STLS is not offered here');
    context.send('+OK Begin TLS negotiation');
    context.startTls();
  },
});
