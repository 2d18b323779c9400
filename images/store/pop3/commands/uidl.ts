import { defineCommand, ok } from '../command.ts';

// RFC 1939 §7 UIDL [msg]: the unique-id listing (UIDVALIDITY.UID: stable while the mailbox lives).
export const uidl = defineCommand({
  name: 'UIDL',
  states: ['transaction'],
  grammar: ['message?'],
  handle(session, [n]) {
    const drop = session.maildrop;
    if (n !== undefined) return ok(`${n} ${drop.uniqueId(n)}`);
    return ok(
      'Unique-id listing follows',
      drop.live().map((m) => `${m} ${drop.uniqueId(m)}`),
    );
  },
});
