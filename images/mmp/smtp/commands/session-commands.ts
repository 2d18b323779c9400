// RSET, NOOP and QUIT (RFC 5321 sections 4.1.1.5, 4.1.1.9, 4.1.1.10): nothing to reset before AUTH.
import type { SmtpCommand } from '../command.ts';

export const rset: SmtpCommand = {
  names: ['RSET', 'NOOP'],
  afterHelo: false,
  handle(context) {
    context.send('250 2.0.0 OK');
  },
};

export const quit: SmtpCommand = {
  names: ['QUIT'],
  afterHelo: false,
  handle(context) {
    context.send(`221 2.0.0 ${context.hostname} closing connection`);
    context.close();
  },
};
