// Polling until something holds: the control plane's readiness, and the eventually-consistent
// effects (garbage collection, controllers creating objects) that tests wait for.
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
 */
export async function waitFor<T>(
  description: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: WaitOptions = {},
): Promise<T> {
  const { timeoutMs = 30_000, intervalMs = 250, abortIf } = options;
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
