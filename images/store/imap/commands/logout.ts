import { defineCommand, ok } from '../command.ts';

export const logout = defineCommand({
  name: 'LOGOUT',
  states: ['not-authenticated', 'authenticated', 'selected'],
  grammar: [],
  handle(session) {
    session.status('*', 'BYE', 'Logging out');
    session.state = 'logout';
    return Promise.resolve(ok('LOGOUT completed'));
  },
});
