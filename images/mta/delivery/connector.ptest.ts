// The connector against two real LMTP servers (Postfix's smtp-sink) on two loopback addresses,
// standing for a store pod before and after it was recreated with a new address: each connect uses
// the address the name has at that moment, not one remembered from before.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../../testing/support/free-ports.ts';
import { startSmtpSink, type SmtpSink } from '../../../testing/peers/smtp-sink.ts';
import { makeTempDir } from '../../../testing/support/temp-dir.ts';
import { createConnector } from './connector.ts';

describe('connector: a destination named by host', () => {
  const temp = makeTempDir('mtopo-connector-');
  let port: number;
  let before1: SmtpSink;
  let after1: SmtpSink;
  before(async () => {
    port = await freePort();
    before1 = await startSmtpSink(join(temp.path, 'old'), { lmtp: true, port, host: '127.0.0.1' });
    after1 = await startSmtpSink(join(temp.path, 'new'), { lmtp: true, port, host: '127.0.0.4' });
  });
  after(async () => {
    await before1?.stop();
    await after1?.stop();
    temp.remove();
  });

  it('connects to the address the name resolves to at each connect, and to the next when one refuses', async () => {
    let addresses = ['127.0.0.1'];
    const asked: string[] = [];
    const connect = createConnector({
      name: 'inbound.test',
      timeouts: { connectMs: 2000, greetingMs: 2000, socketMs: 5000 },
      lookupAddresses: (host) => {
        asked.push(host);
        return Promise.resolve(addresses);
      },
    });
    const store = {
      kind: 'lmtp',
      host: 'store-0.store.mail.test',
      port,
      tls: 'none',
      label: 'store',
    } as const;
    const first = await connect(store);
    assert.equal(first.hop.address, '127.0.0.1');
    first.close();
    // The pod came back elsewhere.
    addresses = ['127.0.0.4'];
    const second = await connect(store);
    assert.equal(second.hop.address, '127.0.0.4', 'the new address, not a remembered one');
    second.close();
    // A stale address first, a live one after it: the live one is used.
    addresses = ['127.0.0.9', '127.0.0.4'];
    const third = await connect(store);
    assert.equal(third.hop.address, '127.0.0.4');
    third.close();
    assert.deepEqual(asked, Array(3).fill('store-0.store.mail.test'));
  });

  it('a name that does not resolve is a temporary failure (4.4.3), so the message waits', async () => {
    const connect = createConnector({
      name: 'inbound.test',
      lookupAddresses: () =>
        Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' })),
    });
    await assert.rejects(
      connect({ kind: 'lmtp', host: 'gone.store.mail.test', port, tls: 'none', label: 'store' }),
      (error: Error & { permanent?: boolean; enhanced?: string }) =>
        /address lookup failed/.test(error.message) &&
        error.permanent === false &&
        error.enhanced === '4.4.3',
    );
  });
});
