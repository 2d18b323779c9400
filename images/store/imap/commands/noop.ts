import { defineCommand, ok } from '../command.ts';

// The dispatcher sends what other sessions changed after every command; NOOP is only that (and CHECK).
export const noop = defineCommand({
  name: 'NOOP',
  states: ['not-authenticated', 'authenticated', 'selected'],
  grammar: [],
  handle: () => Promise.resolve(ok('NOOP completed')),
});

export const check = defineCommand({
  name: 'CHECK',
  states: ['selected'],
  grammar: [],
  handle: () => Promise.resolve(ok('CHECK completed')),
});
