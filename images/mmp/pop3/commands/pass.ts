// PASS (RFC 1939 section 7): the rest of the line is the password (it may hold spaces).
import { pop3Command } from '../command.ts';

export const pass = pop3Command<[string]>({
  name: 'PASS',
  states: ['authorization'],
  grammar: ['rest'],
  handle(context, [password]) {
    const name = context.user;
    context.user = undefined;
    if (name === undefined) return context.send('-ERR USER first');
    if (password === '') return context.send('-ERR [AUTH] Authentication failed');
    context.login(name, password);
  },
});
