import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { waitFor } from '../../testing/support/wait.ts';
import { HANDBACK_LINE_PREFIX, handbackLine } from '../lib/contract/handback.ts';
import { nextReadBuffer, readIntoPair, splice, type SpliceStats } from './splice.ts';
import { handbackNonces, nextHandbackId } from './store-login/handback-nonces.ts';

// A proxy of one session over loopback: `client` is the user's end, `store` the store's; the MMP's
// two sockets (accepted from the client, connected to the store) are spliced.
interface Rig {
  client: Socket;
  store: Socket;
  /** The MMP's ends. */
  mmpClient: Socket;
  mmpStore: Socket;
  ended: Promise<SpliceStats>;
  /** The MMP's store socket, once the splice has handed it back. */
  handedBack: Promise<Socket>;
  end(): void;
}

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

function accepted(server: Server): Promise<Socket> {
  return new Promise((resolve) => server.once('connection', resolve));
}

async function listening(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0 };
}

async function rig(
  options: {
    idleTimeoutMs?: number;
    pipelined?: string;
    storeRest?: string;
    reused?: boolean;
    handbackId?: number;
    /** The client keeps writing after the MMP has ended its side (a client that pipelines on). */
    halfOpenClient?: boolean;
  } = {},
): Promise<Rig> {
  const front = await listening();
  const back = await listening();
  const storeAccepted = accepted(back.server);
  // Node asks for the first read buffer inside connect(), before the socket is assigned.
  const ref: { socket?: Socket } = {};
  const mmpStore = options.reused
    ? connect({
        port: back.port,
        host: '127.0.0.1',
        onread: { buffer: () => nextReadBuffer(ref.socket), callback: readIntoPair },
      })
    : connect({ port: back.port, host: '127.0.0.1' });
  ref.socket = mmpStore;
  const store = await storeAccepted;
  await new Promise((r) => mmpStore.once('connect', r));
  // As after a login (store-connector.ts): paused until the splice reads it.
  mmpStore.pause();
  const clientAccepted = accepted(front.server);
  const client = connect({
    port: front.port,
    host: '127.0.0.1',
    allowHalfOpen: options.halfOpenClient ?? false,
  });
  const mmpClient = await clientAccepted;
  let resolveEnded!: (stats: SpliceStats) => void;
  const ended = new Promise<SpliceStats>((r) => (resolveEnded = r));
  let resolveHandedBack!: (socket: Socket) => void;
  const handedBack = new Promise<Socket>((r) => (resolveHandedBack = r));
  const spliced = splice(
    mmpClient,
    mmpStore,
    {
      idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
      pipelined: Buffer.from(options.pipelined ?? ''),
      storeRest: Buffer.from(options.storeRest ?? ''),
      maxBufferedBytes: 256 * 1024,
      ...(options.handbackId ? { handbackId: options.handbackId } : {}),
    },
    { spliceEnded: resolveEnded, spliceHandedBack: resolveHandedBack },
  );
  client.on('error', () => undefined);
  store.on('error', () => undefined);
  return { client, store, mmpClient, mmpStore, ended, handedBack, end: () => spliced.end() };
}

/** Reads from `socket` until `bytes` have come, and returns them. */
function read(socket: Socket, bytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length < bytes) return;
      socket.off('data', onData);
      resolve(Buffer.concat(chunks));
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`closed after ${length} of ${bytes} bytes`)));
  });
}

describe('splice', () => {
  it('hands over what came with the login first, then passes both ways; the client closing ends both', async () => {
    const r = await rig({ pipelined: 'a2 NOOP\r\n', storeRest: '* 1 EXISTS\r\n' });
    assert.equal((await read(r.store, 9)).toString(), 'a2 NOOP\r\n');
    assert.equal((await read(r.client, 12)).toString(), '* 1 EXISTS\r\n');
    r.client.write('a3 IDLE\r\n');
    assert.equal((await read(r.store, 9)).toString(), 'a3 IDLE\r\n');
    r.store.write('+ idling\r\n');
    assert.equal((await read(r.client, 10)).toString(), '+ idling\r\n');
    const storeClosed = new Promise((resolve) => r.store.once('close', resolve));
    r.client.destroy();
    assert.deepEqual(await r.ended, { toStore: 18, toClient: 22, reason: 'client-closed' });
    await storeClosed;
  });

  it('the store closing closes the client', async () => {
    const r = await rig();
    const clientClosed = new Promise((resolve) => r.client.once('close', resolve));
    r.store.destroy();
    assert.equal((await r.ended).reason, 'store-closed');
    await clientClosed;
  });

  it('end() closes both sides', async () => {
    const r = await rig();
    const closed = Promise.all([r.client, r.store].map((s) => new Promise((res) => s.once('close', res))));
    r.end();
    assert.equal((await r.ended).reason, 'ended');
    await closed;
  });

  it('ends a session with no bytes either way for the idle timeout', async () => {
    const r = await rig({ idleTimeoutMs: 200 });
    assert.equal((await r.ended).reason, 'idle');
  });

  it('keeps a session while bytes pass either way, and ends it no sooner than the timeout after the last', async () => {
    const timeoutMs = 600;
    const r = await rig({ idleTimeoutMs: timeoutMs });
    let ended = false;
    void r.ended.then(() => (ended = true));
    const started = performance.now();
    let last = started;
    // Bytes every 50 ms, for longer than the timeout from the store only, then from the client only.
    while (performance.now() - started < timeoutMs * 2.4) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(ended, false, `ended ${Math.round(performance.now() - last)} ms after a byte`);
      last = performance.now();
      (last - started < timeoutMs * 1.2 ? r.store : r.client).write('x');
    }
    assert.equal((await r.ended).reason, 'idle');
    // Timers round to the millisecond.
    assert.ok(
      performance.now() - last >= timeoutMs - 2,
      `ended ${performance.now() - last} ms after the last byte`,
    );
  });

  it('a store socket reading into reused buffers passes 8 MiB intact (more than the splice may hold)', async () => {
    const r = await rig({ reused: true });
    const body = randomBytes(8 * 1024 * 1024);
    // The client does not read until the MMP holds unsent bytes for it, so the splice's paths for a
    // slow client (reading stopped, resumed on 'drain' or when its write is done) are taken.
    r.client.pause();
    r.store.write(body);
    await waitFor('bytes held for the client', () => r.mmpClient.writableLength > 0, 10_000);
    const received = read(r.client, body.length);
    // Which buffer the store socket reads into next, seen as the bytes arrive: its own, in bulk.
    const sizes = new Set<number>();
    r.client.on('data', () => sizes.add(nextReadBuffer(r.mmpStore).length));
    r.client.resume();
    assert.ok((await received).equals(body));
    assert.ok(sizes.has(256 * 1024), `read buffers seen: ${[...sizes].join(', ')}`);
    r.client.write('a LOGOUT\r\n');
    assert.equal((await read(r.store, 10)).toString(), 'a LOGOUT\r\n');
    r.client.destroy();
    assert.equal((await r.ended).toClient, body.length);
  });

  it('small reads written from the shared buffer stay intact while held for a slow client, whatever other sessions read', async () => {
    const slow = await rig({ reused: true });
    const other = await rig({ reused: true });
    // Small writes a turn apart, so that the MMP reads each alone, into the buffer every such
    // socket shares, until its writes to the paused client are left pending.
    const trickle = async (to: Socket, body: Buffer, until?: () => boolean) => {
      let at = 0;
      for (; at < body.length && !until?.(); at += 1000) {
        to.write(body.subarray(at, at + 1000));
        await new Promise((resolve) => setImmediate(resolve));
      }
      return at;
    };
    slow.client.pause();
    const held = randomBytes(16 * 1024 * 1024);
    const sent = await trickle(slow.store, held, () => slow.mmpClient.writableLength > 4000);
    assert.ok(slow.mmpClient.writableLength > 0, 'the MMP holds bytes for the slow client');
    const otherBody = randomBytes(64 * 1000);
    const otherReceived = read(other.client, otherBody.length);
    await trickle(other.store, otherBody);
    assert.ok((await otherReceived).equals(otherBody));
    const received = read(slow.client, sent);
    slow.client.resume();
    assert.ok((await received).equals(held.subarray(0, sent)));
    slow.client.destroy();
    other.client.destroy();
    await Promise.all([slow.ended, other.ended]);
  });
});

describe('splice: the store hands the connection back after LOGOUT', () => {
  /** What `socket` receives up to and including `end`. */
  const readUntil = (socket: Socket, end: string) =>
    new Promise<string>((resolve) => {
      let got = '';
      const onData = (chunk: Buffer) => {
        got += chunk.toString('latin1');
        if (!got.includes(end)) return;
        socket.off('data', onData);
        resolve(got);
      };
      socket.on('data', onData);
    });

  for (const reused of [false, true])
    it(`at its marker line: the client ends, the store gets the resync line and no byte of the client after it (${reused ? 'own read buffers' : 'data events'})`, async () => {
      const id = nextHandbackId();
      const { marker, resync } = handbackNonces(id);
      const r = await rig({ handbackId: id, reused, halfOpenClient: true });
      // Another marker, as a message could quote it, passes as it is.
      const quoted = `* OK ${HANDBACK_LINE_PREFIX}${'0'.repeat(32)}\r\n`;
      r.store.write(quoted);
      assert.equal((await read(r.client, quoted.length)).toString(), quoted);
      r.client.write('b LOGOUT\r\n');
      assert.equal((await read(r.store, 10)).toString(), 'b LOGOUT\r\n');
      const clientEnded = new Promise((resolve) => r.client.once('end', resolve));
      const toClient = readUntil(r.client, 'b OK');
      const atStore = readUntil(r.store, 'sync');
      r.store.write(`* BYE bye\r\nb OK done\r\n${handbackLine(marker)}`);
      assert.equal(await toClient, '* BYE bye\r\nb OK done\r\n');
      assert.equal(await r.handedBack, r.mmpStore);
      // The store's next greeting, read by the pool now: not this session's bytes.
      const greeting = readUntil(r.mmpStore, 'ready\r\n');
      r.mmpStore.resume();
      r.store.write('* OK ready\r\n');
      await greeting;
      await clientEnded;
      // The client, still sending, then gone: none of it may reach the store, whose next session
      // the connection now carries.
      await new Promise((resolve) => r.client.write('x NOOP\r\n', resolve));
      r.client.end();
      assert.deepEqual(await r.ended, {
        toStore: 18, // what the client sent, the dropped "x NOOP" too
        toClient: quoted.length + 22 + handbackLine(marker).length,
        reason: 'handed-back',
      });
      r.mmpStore.write('sync');
      assert.equal(await atStore, `${resync}\r\nsync`);
      r.mmpStore.destroy();
    });
});
