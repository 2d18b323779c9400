import { defineCommand, err } from '../command.ts';

// RFC 2595 §4: STLS, then a TLS handshake; what the client sent after STLS in plaintext is dropped.
export const stls = defineCommand({
  name: 'STLS',
  states: ['authorization'],
  grammar: [],
  async handle(session) {
    if (!session.canStartTls) return err('TLS is not available here');
    await session.startTls();
    return { ok: true, text: '', silent: true };
  },
});
