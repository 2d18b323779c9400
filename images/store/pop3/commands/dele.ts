import { defineCommand, ok } from '../command.ts';

// RFC 1939 §7 DELE: marked only; QUIT expunges (an interrupted session deletes nothing).
export const dele = defineCommand({
  name: 'DELE',
  states: ['transaction'],
  grammar: ['message'],
  handle(session, [n]) {
    session.maildrop.markDeleted(n);
    return ok(`Message ${n} deleted`);
  },
});
