import { defineCommand, ok } from '../command.ts';

export const stat = defineCommand({
  name: 'STAT',
  states: ['transaction'],
  grammar: [],
  handle(session) {
    const { count, octets } = session.maildrop.stat();
    return ok(`${count} ${octets}`);
  },
});
