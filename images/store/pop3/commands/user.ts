import { defineCommand, ok } from '../command.ts';

// RFC 1939 §7 USER: remembered for PASS. The MMP sends "user*proxy-identity" (sasl-plain.ts).
export const user = defineCommand({
  name: 'USER',
  states: ['authorization'],
  grammar: ['word'],
  handle(session, [name]) {
    session.pendingUser = name;
    return ok('Send PASS');
  },
});
