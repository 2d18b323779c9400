// When to try a deferred message again: exponential backoff from `retryInitial`, doubling up to
// `retryMax`, until the message has been queued for `lifetime` (RFC 5321 section 4.5.4.1 suggests
// retrying for 4–5 days). The last try is made at the end of the lifetime, not skipped; a failure
// after that returns the message to its sender.

import { backoffDelayMs } from '../../lib/contract/backoff.ts';

export interface RetryPolicy {
  initialMs: number;
  maxMs: number;
  lifetimeMs: number;
}

export function retryDelayMs(failures: number, policy: RetryPolicy): number {
  return backoffDelayMs(failures, { initialMs: policy.initialMs, maxMs: policy.maxMs });
}

export type AfterFailure = { kind: 'retry'; at: number } | { kind: 'expire' };

export function afterFailure(input: {
  arrivedAt: number;
  now: number;
  failures: number;
  policy: RetryPolicy;
}): AfterFailure {
  const expiresAt = input.arrivedAt + input.policy.lifetimeMs;
  if (input.now >= expiresAt) return { kind: 'expire' };
  return { kind: 'retry', at: Math.min(input.now + retryDelayMs(input.failures, input.policy), expiresAt) };
}
