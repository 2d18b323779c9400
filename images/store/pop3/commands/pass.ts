import { splitMasterUser } from '../../protocol/sasl-plain.ts';
import { defineCommand, err } from '../command.ts';

// RFC 1939 §7 PASS, after USER. A failed PASS forgets the USER (the client starts again).
export const pass = defineCommand({
  name: 'PASS',
  states: ['authorization'],
  grammar: ['rest'],
  handle(session, [password]) {
    const name = session.pendingUser;
    session.pendingUser = undefined;
    if (name === undefined) return err('USER first');
    const { authzid, authcid } = splitMasterUser(name);
    return session.logIn({ authzid, authcid, password });
  },
});
