import { bad, defineCommand, no, ok } from '../command.ts';

export const starttls = defineCommand({
  name: 'STARTTLS',
  states: ['not-authenticated'],
  grammar: [],
  async handle(session, _args, tag) {
    const start = session.transport.startTls;
    // Checked first: on imaps the connection is already TLS and this listener offers no upgrade.
    if (session.transport.secure) return bad('TLS is already active');
    if (!start) return no('TLS is not configured on this listener');
    // RFC 9051 6.2.1: the tagged OK goes out in clear, then the handshake; nothing the client sent
    // before the handshake may be used after it (plaintext command injection, CVE-2011-0411).
    if (session.reader.buffered > 0) return bad('Commands pipelined after STARTTLS');
    session.status(tag, 'OK', 'Begin TLS negotiation now');
    await start();
    return { ...ok(''), silent: true };
  },
});
