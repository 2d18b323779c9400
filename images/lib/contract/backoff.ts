// The one exponential backoff: a delay that doubles from `initialMs` with each failure, up to
// `maxMs`, with optional jitter so that many clients failing at once do not come back at once.
// The MTA's retry schedule, the directory client's reconnects and the operator's requeues are all
// this curve with different numbers. In the contract so that the operator, which imports nothing else
// of the kit, uses it too; it depends on nothing.

export interface Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  /** 0 (none) to 1: the delay is drawn from [d × (1 − jitter), d]. */
  readonly jitter?: number;
}

/** The delay before try `failures + 1`, after `failures` failures (1 → initialMs). */
export function backoffDelayMs(
  failures: number,
  backoff: Backoff,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, failures - 1);
  // 2^exponent overflows to Infinity long before it matters; the cap keeps it finite.
  const delay = Math.min(backoff.initialMs * 2 ** Math.min(exponent, 40), backoff.maxMs);
  const jitter = Math.min(1, Math.max(0, backoff.jitter ?? 0));
  return jitter === 0 ? delay : Math.round(delay * (1 - jitter * random()));
}
