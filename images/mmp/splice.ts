// After login, the client and the store are joined byte for byte: nothing is parsed, so COMPRESS,
// IDLE and literals of any size pass, and back-pressure is the sockets' own (pipe pauses the faster
// side). Either side closing closes the other; no byte in either direction for the idle timeout
// ends both (RFC 9051 section 5.4: at least 30 minutes).
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
  options: { idleTimeoutMs: number; pipelined: Buffer; storeRest: Buffer },
): Splice {
  let reason: SpliceStats['reason'] | undefined;
  let resolveDone!: (stats: SpliceStats) => void;
  const done = new Promise<SpliceStats>((resolve) => (resolveDone = resolve));
  const clientRead0 = client.bytesRead;
  const storeRead0 = store.bytesRead;
  const finish = (why: SpliceStats['reason']) => {
    reason ??= why;
    client.destroy();
    store.destroy();
  };
  let closed = 0;
  const onClose = () => {
    if (++closed < 2) return;
    resolveDone({
      toStore: client.bytesRead - clientRead0 + options.pipelined.length,
      toClient: store.bytesRead - storeRead0 + options.storeRest.length,
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
  client.pipe(store);
  store.pipe(client);
  return {
    end: () => finish('ended'),
    done,
  };
}
