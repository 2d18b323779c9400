import { defineCommand, err } from '../command.ts';

// RFC 1939 §7 PASS, after USER ("user*proxy", split by logIn). A failed PASS forgets the USER.
export const pass = defineCommand({
  name: 'PASS',
  states: ['authorization'],
  grammar: ['rest'],
  handle(session, [password]) {
    const name = session.pendingUser;
    session.pendingUser = undefined;
    if (name === undefined) return err('USER first');
    return session.logIn({ authzid: '', authcid: name, password });
  },
});
