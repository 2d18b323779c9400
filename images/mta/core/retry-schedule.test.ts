import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { afterFailure, retryDelayMs } from './retry-schedule.ts';

const policy = { initialMs: 60_000, maxMs: 3_600_000, lifetimeMs: 5 * 86_400_000 };

describe('retry schedule', () => {
  it('doubles from the initial delay up to the maximum', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 8, 100].map((n) => retryDelayMs(n, policy) / 60_000),
      [1, 2, 4, 8, 16, 32, 60, 60, 60],
    );
  });

  it('retries after the delay while the lifetime lasts', () => {
    assert.deepEqual(afterFailure({ arrivedAt: 0, now: 1000, failures: 1, policy }), {
      kind: 'retry',
      at: 61_000,
    });
  });

  it('makes the last try at the end of the lifetime rather than skipping it', () => {
    const now = policy.lifetimeMs - 10_000;
    assert.deepEqual(afterFailure({ arrivedAt: 0, now, failures: 50, policy }), {
      kind: 'retry',
      at: policy.lifetimeMs,
    });
  });

  it('expires a message whose lifetime is over', () => {
    assert.deepEqual(afterFailure({ arrivedAt: 0, now: policy.lifetimeMs, failures: 50, policy }), {
      kind: 'expire',
    });
  });
});
