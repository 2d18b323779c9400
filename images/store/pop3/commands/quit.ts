import { defineCommand, ok } from '../command.ts';

// RFC 1939 §6: QUIT in TRANSACTION enters UPDATE: the deletions become one expunge (which other
// sessions, IMAP ones too, see as EXPUNGE) and retrieved messages become \Seen.
export const quit = defineCommand({
  name: 'QUIT',
  states: ['authorization', 'transaction'],
  grammar: [],
  async handle(session) {
    if (session.state === 'authorization') {
      session.closing = true;
      return ok(`${session.options.hostname} signing off`);
    }
    return session.update();
  },
});
