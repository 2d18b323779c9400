import { capabilities } from '../capabilities.ts';
import { defineCommand, ok } from '../command.ts';
import { atom } from '../protocol/response.ts';

export const capability = defineCommand({
  name: 'CAPABILITY',
  states: ['not-authenticated', 'authenticated', 'selected'],
  grammar: [],
  handle(session) {
    session.untagged([atom('*'), atom('CAPABILITY'), ...capabilities(session).map(atom)]);
    return Promise.resolve(ok('CAPABILITY completed'));
  },
});
