// The IMAP protocol behind the program kit's listener, as store-server.ts runs it: PROXY v1 gives
// the session the client's address (logged), the drain says BYE to a session in IDLE, metrics count.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { checkStoreLogin } from '../../../lib/auth/proofs.ts';
import { createLogger } from '../../../lib/log.ts';
import { startListener, type Listener } from '../../../lib/server/listener.ts';
import { storeMetrics } from '../../metrics.ts';
import { startStoreFixture, type StoreFixture } from '../../testing/store-fixture.ts';
import { imapProtocol } from '../imap-protocol.ts';
import { PROXY_IDENTITY, PROXY_SECRET, plainLogin } from '../testing/imap-fixture.ts';
import type { ListenerConfig } from '../../../lib/contract/common.ts';

let base: StoreFixture;
let listener: Listener;
const registry = new Registry();
const logged: string[] = [];
const logger = createLogger({
  program: 'store-test',
  level: 'info',
  destination: new Writable({
    write(chunk: Buffer, _encoding, done) {
      logged.push(chunk.toString());
      done();
    },
  }),
});

before(async () => {
  base = await startStoreFixture('imap-listener');
  const metrics = storeMetrics(registry, {
    openAccounts: () => 0,
    accounts: () => 0,
    retainedMessages: () => 0,
  });
  const config: ListenerConfig = {
    name: 'imap',
    protocol: 'imap',
    port: 0,
    tls: 'none',
    proxyProtocol: 'v1',
    proxyProtocolFrom: ['127.0.0.1'],
    maxConnections: 10,
    maxConnectionsPerClient: 5,
  };
  const context = {
    config: { common: { hostname: 'store-0.test' }, maxMessageBytes: 1024 * 1024 },
    store: base.store,
    logger,
    metrics,
    tls: undefined,
    login: (c: { authzid: string; authcid: string; password: string }) =>
      checkStoreLogin(c, { proxyUser: PROXY_IDENTITY, secret: PROXY_SECRET }),
  };
  listener = await startListener({
    config,
    host: '127.0.0.1',
    logger,
    onConnection: (c) => imapProtocol.handle(c, c.socket, context, config),
  });
});
after(async () => {
  listener?.stopAccepting();
  await base?.close();
});

describe('IMAP behind the kit listener', () => {
  it('reads the PROXY header, serves the session, and says BYE to IDLE on drain', async () => {
    const socket = connect(listener.port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    const until = async (pattern: RegExp) => {
      for (let i = 0; i < 500 && !pattern.test(received); i++) await new Promise((r) => setTimeout(r, 10));
      assert.match(received, pattern);
    };
    socket.write('PROXY TCP4 198.51.100.9 127.0.0.1 50000 1143\r\n');
    await until(/^\* OK \[CAPABILITY [^\]]+\] store-0.test IMAP4rev2 ready\r\n/);
    socket.write(`a AUTHENTICATE PLAIN ${plainLogin('kit@example.test')}\r\nb SELECT INBOX\r\nc IDLE\r\n`);
    await until(/\+ idling\r\n$/);
    // The session logs the client the PROXY header named, not the balancer's address.
    assert.ok(
      logged.some((l) => /"msg":"IMAP login"/.test(l) && /"client":"198.51.100.9"/.test(l)),
      logged.join(''),
    );
    await listener.drain(2000);
    await until(/\* BYE \[UNAVAILABLE\] Server shutting down, reconnect elsewhere\r\n$/);
    const text = await registry.metrics();
    assert.match(text, /mtopo_store_commands_total\{protocol="imap",command="AUTHENTICATE",result="ok"\} 1/);
    assert.match(text, /mtopo_store_sessions_total\{protocol="imap"\} 1/);
    socket.destroy();
  });
});
