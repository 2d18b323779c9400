import { STORE_POP3_CAPABILITIES } from '../../../lib/contract/store-capabilities.ts';
import { defineCommand, ok } from '../command.ts';

// RFC 2449 §5: what this server does, in the state the client is in.
export const capa = defineCommand({
  name: 'CAPA',
  states: ['authorization', 'transaction'],
  grammar: [],
  handle(session) {
    const lines = [...STORE_POP3_CAPABILITIES, 'USER', 'SASL PLAIN'];
    if (session.state === 'authorization' && session.canStartTls) lines.push('STLS');
    lines.push('IMPLEMENTATION mtopo-store');
    return ok('Capability list follows', lines);
  },
});
