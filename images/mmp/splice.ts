// After login, the client and the store are joined byte for byte: nothing is parsed, so COMPRESS,
// IDLE and literals of any size pass. Each side's chunks are written to the other as they come; a
// side stops being read only when the other holds more than `spliceLimits.maxBufferedBytes` unsent
// (stream.pipe pauses at the socket's 16 KiB high-water mark, i.e. after every 64 KiB read, so a
// bulk FETCH waited for each chunk to drain before the next was read). Either side closing closes
// the other; no byte in either direction for the idle timeout ends both (RFC 9051 section 5.4: at
// least 30 minutes).
import type { Socket } from 'node:net';

export interface SpliceStats {
  toStore: number;
  toClient: number;
  reason: 'client-closed' | 'store-closed' | 'idle' | 'ended';
}

export interface Splice {
  /** Ends both sides now (a moved user, the end of a drain). */
  end(): void;
  readonly done: Promise<SpliceStats>;
}

export function splice(
  client: Socket,
  store: Socket,
  options: { idleTimeoutMs: number; pipelined: Buffer; storeRest: Buffer; maxBufferedBytes: number },
): Splice {
  let reason: SpliceStats['reason'] | undefined;
  let resolveDone!: (stats: SpliceStats) => void;
  const done = new Promise<SpliceStats>((resolve) => (resolveDone = resolve));
  const clientRead0 = client.bytesRead;
  const storeRead0 = store.bytesRead;
  // Only their lengths are kept: the buffers themselves may go once written.
  const pipelinedBytes = options.pipelined.length;
  const storeRestBytes = options.storeRest.length;
  const finish = (why: SpliceStats['reason']) => {
    reason ??= why;
    client.destroy();
    store.destroy();
  };
  let closed = 0;
  const onClose = () => {
    if (++closed < 2) return;
    resolveDone({
      toStore: client.bytesRead - clientRead0 + pipelinedBytes,
      toClient: store.bytesRead - storeRead0 + storeRestBytes,
      reason: reason ?? 'ended',
    });
  };
  // 'close' and 'end' come once per socket: plain listeners, since each once() wrapper (a state
  // object and a bound function) would stay with an idle session for its life.
  client.on('close', () => {
    finish('client-closed');
    onClose();
  });
  store.on('close', () => {
    finish('store-closed');
    onClose();
  });
  client.on('error', () => finish('client-closed'));
  store.on('error', () => finish('store-closed'));
  // Activity on the client socket (either direction) resets its timer; every byte crosses it.
  client.setTimeout(options.idleTimeoutMs, () => finish('idle'));
  client.setNoDelay(true);
  store.setNoDelay(true);
  if (options.storeRest.length > 0) client.write(options.storeRest);
  if (options.pipelined.length > 0) store.write(options.pipelined);
  forward(client, store, options.maxBufferedBytes);
  // A store socket reading into its own buffer has no 'data' events from here on: the sink takes them.
  forwardReused(store, client, options.maxBufferedBytes);
  forward(store, client, options.maxBufferedBytes);
  return {
    end: () => finish('ended'),
    done,
  };
}

/**
 * A plain store socket reads with `net.connect`'s `onread` instead of into a new buffer per read:
 * a bulk FETCH then costs no allocation (and no collection) per chunk. Until the socket is spliced
 * its bytes are handed on as copies in 'data' events, as any socket's (the login phase reads them
 * so); once spliced, they go to the sink, straight to the other side.
 *
 * Which buffer a read goes into is chosen after each read: while the socket reads in bulk, one of
 * its own, written on as it is (and no next read until that write is done); otherwise one buffer
 * shared by every such socket, copied out at once, so an idle session holds no read buffer at all.
 */
type ReadSink = (view: Buffer, owned: boolean) => boolean;
const readSinks = new WeakMap<Socket, ReadSink>();

/** Node's own read size: the shared buffer's. */
const READ_BUFFER_BYTES = 64 * 1024;
/**
 * A socket reading in bulk reads up to this much at a time: a quarter of the reads, callbacks and
 * writes of 64 KiB ones (a standalone trial, 2 GiB through a proxy process: 0.71-0.82 CPU s per GiB
 * against 1.13-1.18; docs/performance.md, MMP, fifth round). Held only while the bulk lasts.
 */
const BULK_BUFFER_BYTES = 256 * 1024;
/** A read this large means more is coming: the socket gets a buffer of its own. */
const BULK_READ_BYTES = 16 * 1024;
/** A read this small means the bulk is over: back to the shared buffer. */
const SMALL_READ_BYTES = 4 * 1024;
/** Read into and copied out of within one callback, so every socket may point at it. */
const SHARED: Buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);

export function reusedReadBuffer(socket: () => Socket): {
  buffer: () => Buffer;
  callback: (bytes: number, buffer: Buffer) => boolean;
} {
  let own: Buffer | undefined;
  let next: Buffer = SHARED;
  return {
    // Node asks once at connect and again after each read.
    buffer: () => next,
    callback: (bytes, buffer) => {
      const view = buffer.subarray(0, bytes);
      if (bytes >= BULK_READ_BYTES) next = own ??= Buffer.allocUnsafe(BULK_BUFFER_BYTES);
      else if (bytes < SMALL_READ_BYTES) {
        next = SHARED;
        // A write still sending from it holds it; otherwise it is let go.
        own = undefined;
      }
      const s = socket();
      const sink = readSinks.get(s);
      if (sink) return buffer === SHARED ? sink(Buffer.from(view), false) : sink(view, true);
      s.emit('data', Buffer.from(view));
      return true;
    },
  };
}

/**
 * The sink of a socket reading with `reusedReadBuffer`. A copy is written as 'data' chunks are
 * (reading on below `maxBuffered` unsent); a read in the socket's own buffer is written as it is,
 * and reading stops (false) until that write is done, since the next read would overwrite it.
 */
function forwardReused(from: Socket, to: Socket, maxBuffered: number): void {
  let waiting = false;
  const written = () => {
    if (!waiting) return;
    waiting = false;
    if (!from.destroyed) from.resume();
  };
  readSinks.set(from, (view, owned) => {
    if (!owned) {
      to.write(view);
      return to.writableLength < maxBuffered;
    }
    to.write(view, written);
    if (to.writableLength === 0) return true;
    waiting = true;
    return false;
  });
}

/** `from`'s bytes to `to`, reading on while `to` has less than `maxBuffered` bytes unsent. */
function forward(from: Socket, to: Socket, maxBuffered: number): void {
  from.on('data', (chunk: Buffer) => {
    to.write(chunk);
    if (to.writableLength >= maxBuffered) from.pause();
  });
  // 'drain' follows every write that found the buffer over the high-water mark, once it is empty.
  to.on('drain', () => from.resume());
  from.on('end', () => to.end());
  // The store's socket was paused when its login ended (store-connector.ts): a 'data' listener alone
  // does not start an explicitly paused stream.
  from.resume();
}
