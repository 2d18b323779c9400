// The warm pool against a real loopback server: ready connections carry the greeting they got, a
// connection the server closed is never handed out, and an old one is closed rather than used.
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '../../testing/support/wait.ts';
import { WarmConnections } from './warm-connections.ts';

let server: Server;
let port = 0;
const accepted: Socket[] = [];

before(async () => {
  server = createServer((socket) => {
    accepted.push(socket);
    socket.write('* OK ready\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
after(() => {
  for (const s of accepted) s.destroy();
  server.close();
});

const open = () =>
  new Promise<Socket | undefined>((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => resolve(socket));
    socket.once('error', () => resolve(undefined));
  });

describe('warm store connections', () => {
  test('refill opens up to the limit; take hands one out with the greeting it received', async () => {
    const warm = new WarmConnections({
      perAddress: 2,
      maxPerAddress: 8,
      maxAgeMs: 10_000,
      maxReceivedBytes: 1024,
    });
    assert.equal(warm.take('k'), undefined);
    const before = accepted.length;
    warm.refill('k', open);
    warm.refill('k', open);
    await waitFor('two connections', () => accepted.length === before + 2);
    let got = warm.take('k');
    await waitFor('the greeting', () => {
      if (got && got.received.length > 0) return true;
      return false;
    });
    assert.equal(got!.received.toString(), '* OK ready\r\n');
    got!.socket.destroy();
    got = warm.take('k');
    assert.ok(got);
    got.socket.destroy();
    assert.equal(warm.take('k'), undefined);
    warm.close();
  });

  test('a connection the server closed is dropped, and an old one is not used', async () => {
    let now = 0;
    const warm = new WarmConnections(
      { perAddress: 1, maxPerAddress: 8, maxAgeMs: 1000, maxReceivedBytes: 1024 },
      () => now,
    );
    const before = accepted.length;
    warm.refill('k', open);
    await waitFor('a ready connection', () => warm.readyFor('k') === 1 && accepted.length === before + 1);
    accepted[before]!.destroy();
    await waitFor('the closed one to be dropped', () => warm.readyFor('k') === 0);
    assert.equal(warm.take('k'), undefined);
    warm.refill('k', open);
    await waitFor('another ready connection', () => warm.readyFor('k') === 1);
    now = 5000;
    assert.equal(warm.take('k'), undefined);
    warm.close();
  });
});
