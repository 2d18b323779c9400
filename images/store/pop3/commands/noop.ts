import { defineCommand, ok } from '../command.ts';

export const noop = defineCommand({
  name: 'NOOP',
  states: ['transaction'],
  grammar: [],
  handle: () => ok(''),
});
