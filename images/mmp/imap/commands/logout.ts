// LOGOUT (RFC 9051 section 6.1.3): BYE, then the tagged OK, then close.
import { imapCommand } from '../command.ts';

export const logout = imapCommand<[]>({
  name: 'LOGOUT',
  states: ['not-authenticated'],
  grammar: [],
  handle(context, tag) {
    context.send('* BYE Logging out');
    context.send(`${tag} OK LOGOUT completed`);
    context.close();
  },
});
