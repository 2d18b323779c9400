// QUIT (RFC 1939 section 6) before login: nothing to update, just goodbye.
import { pop3Command } from '../command.ts';

export const quit = pop3Command<[]>({
  name: 'QUIT',
  states: ['authorization'],
  grammar: [],
  handle(context) {
    context.send('+OK Logging out');
    context.close();
  },
});
