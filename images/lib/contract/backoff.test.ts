import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelayMs } from './backoff.ts';

describe('backoffDelayMs', () => {
  it('doubles from the initial delay up to the ceiling', () => {
    const b = { initialMs: 60_000, maxMs: 3_600_000 };
    assert.deepEqual(
      [0, 1, 2, 3, 4, 7, 8, 200].map((n) => backoffDelayMs(n, b)),
      [60_000, 60_000, 120_000, 240_000, 480_000, 3_600_000, 3_600_000, 3_600_000],
    );
  });

  it('draws a jittered delay from below the curve, never above it', () => {
    const b = { initialMs: 1000, maxMs: 60_000, jitter: 0.5 };
    assert.equal(
      backoffDelayMs(3, b, () => 0),
      4000,
    );
    assert.equal(
      backoffDelayMs(3, b, () => 1),
      2000,
    );
  });
});
