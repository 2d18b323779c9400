import { defineCommand, ok } from '../command.ts';

// RFC 1939 §7 LIST [msg]: one scan listing, or all of them as a multi-line reply.
export const list = defineCommand({
  name: 'LIST',
  states: ['transaction'],
  grammar: ['message?'],
  handle(session, [n]) {
    const drop = session.maildrop;
    if (n !== undefined) return ok(`${n} ${drop.message(n).size}`);
    const { count, octets } = drop.stat();
    return ok(
      `${count} messages (${octets} octets)`,
      drop.live().map((m) => `${m} ${drop.message(m).size}`),
    );
  },
});
