import { defineCommand, ok } from '../command.ts';

export const rset = defineCommand({
  name: 'RSET',
  states: ['transaction'],
  grammar: [],
  handle(session) {
    session.maildrop.reset();
    const { count, octets } = session.maildrop.stat();
    return ok(`Maildrop has ${count} messages (${octets} octets)`);
  },
});
