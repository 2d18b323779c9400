import { splitMasterUser } from '../../protocol/sasl-plain.ts';
import { defineCommand } from '../command.ts';
import { proxyLogin } from './proxy-login.ts';

// LOGIN carries the same triple as SASL PLAIN for clients that only speak LOGIN (mbsync): the user
// name is "user*proxy-identity", as Dovecot's master-user separator has it.
export const login = defineCommand({
  name: 'LOGIN',
  states: ['not-authenticated'],
  grammar: ['astring', 'astring'],
  handle(session, [name, password]) {
    const { authzid, authcid } = splitMasterUser(name);
    return proxyLogin(session, authzid, authcid, password);
  },
});
