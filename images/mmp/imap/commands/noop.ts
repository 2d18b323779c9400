// NOOP (RFC 9051 section 6.1.2).
import { imapCommand } from '../command.ts';

export const noop = imapCommand<[]>({
  name: 'NOOP',
  states: ['not-authenticated'],
  grammar: [],
  handle(context, tag) {
    context.send(`${tag} OK NOOP completed`);
  },
});
