import { defineCommand, ok } from '../command.ts';
import { atom } from '../protocol/response.ts';

// NAMESPACE (RFC 2342): one personal namespace, "" with "/" as delimiter; no shared or others'.
export const namespace = defineCommand({
  name: 'NAMESPACE',
  states: ['authenticated', 'selected'],
  grammar: [],
  handle(session) {
    session.untagged([atom('*'), atom('NAMESPACE'), [['', '/']], null, null]);
    return Promise.resolve(ok('NAMESPACE completed'));
  },
});
