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
  client.once('close', () => {
    finish('client-closed');
    onClose();
  });
  store.once('close', () => {
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
  forward(store, client, options.maxBufferedBytes);
  return {
    end: () => finish('ended'),
    done,
  };
}

/** `from`'s bytes to `to`, reading on while `to` has less than `maxBuffered` bytes unsent. */
function forward(from: Socket, to: Socket, maxBuffered: number): void {
  from.on('data', (chunk: Buffer) => {
    to.write(chunk);
    if (to.writableLength >= maxBuffered) from.pause();
  });
  // 'drain' follows every write that found the buffer over the high-water mark, once it is empty.
  to.on('drain', () => from.resume());
  from.once('end', () => to.end());
  // The store's socket was paused when its login ended (store-connector.ts): a 'data' listener alone
  // does not start an explicitly paused stream.
  from.resume();
}
