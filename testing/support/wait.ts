// Waiting until something holds — a server's readiness, a controller's effect, a message in a log —
// by polling a condition, never by sleeping for a guessed time.
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  /** Checked before each try: a message here ends the wait at once (e.g. "etcd exited"). */
  readonly abortIf?: () => string | undefined;
}

/**
 * Calls `probe` until it returns something other than undefined or false, and returns that.
 * A probe that throws counts as "not yet"; its last error is part of the timeout message.
 * A number for `options` is the timeout in milliseconds.
 */
export async function waitFor<T>(
  description: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: WaitOptions | number = {},
): Promise<T> {
  const {
    timeoutMs = 30_000,
    intervalMs = 100,
    abortIf,
  } = typeof options === 'number' ? { timeoutMs: options } : options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const abortReason = abortIf?.();
    if (abortReason !== undefined) throw new Error(`gave up waiting for ${description}: ${abortReason}`);
    try {
      const result = await probe();
      if (result !== undefined && result !== false) return result;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}${cause}`);
    }
    await sleep(intervalMs);
  }
}

/** Whether something accepts a TCP connection on the port now. */
export function acceptsConnections(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Resolves once something accepts TCP connections on the port. */
export async function waitForPort(port: number, timeoutMs = 10_000, host = '127.0.0.1'): Promise<void> {
  await waitFor(`something to listen on ${host}:${port}`, () => acceptsConnections(port, host), {
    timeoutMs,
  });
}
