// CAPABILITY (RFC 9051 section 6.1.1): the list the client plans its session by.
import { imapCommand } from '../command.ts';

export const capability = imapCommand<[]>({
  name: 'CAPABILITY',
  states: ['not-authenticated'],
  grammar: [],
  handle(context, tag) {
    context.send(`* CAPABILITY ${context.capabilities().join(' ')}`);
    context.send(`${tag} OK CAPABILITY completed`);
  },
});
