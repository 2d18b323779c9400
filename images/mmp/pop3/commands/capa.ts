// CAPA (RFC 2449 section 5): a multi-line list.
import { pop3Command } from '../command.ts';

export const capa = pop3Command<[]>({
  name: 'CAPA',
  states: ['authorization'],
  grammar: [],
  handle(context) {
    context.send(['+OK Capability list follows', ...context.capabilities(), '.'].join('\r\n'));
  },
});
