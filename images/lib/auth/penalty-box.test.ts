import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PenaltyBox, type PenaltyPolicy } from './penalty-box.ts';

const policy: PenaltyPolicy = {
  freeFailures: 2,
  baseDelayMs: 1000,
  maxDelayMs: 4000,
  lockoutAfter: 6,
  lockoutMs: 60_000,
  windowMs: 600_000,
};

function box(p: PenaltyPolicy = policy) {
  let now = 1_000_000;
  return { box: new PenaltyBox(p, () => now), advance: (ms: number) => (now += ms), now: () => now };
}

describe('PenaltyBox', () => {
  it('answers the free failures at once, then doubles the wait before each next answer up to the ceiling', () => {
    const { box: b } = box();
    const delays = [1, 2, 3, 4, 5].map(() => {
      const p = b.fail('client:192.0.2.1');
      return p.kind === 'delay' ? p.delayMs : -1;
    });
    assert.deepEqual(delays, [0, 1000, 2000, 4000, 4000]);
    assert.deepEqual(b.check('client:192.0.2.1'), { kind: 'delay', delayMs: 4000 });
  });

  it('locks a key out at the limit and lets it in again when the lockout ends', () => {
    const { box: b, advance, now } = box();
    for (let i = 0; i < 5; i++) b.fail('account:alice');
    const locked = b.fail('account:alice');
    assert.deepEqual(locked, { kind: 'locked', until: now() + 60_000 });
    assert.equal(b.check('account:alice').kind, 'locked');
    assert.equal(b.lockouts, 1);
    advance(60_001);
    assert.deepEqual(b.check('account:alice'), { kind: 'delay', delayMs: 0 });
  });

  it('keeps each key apart', () => {
    const { box: b } = box();
    for (let i = 0; i < 6; i++) b.fail('client:192.0.2.1');
    assert.equal(b.check('client:192.0.2.1').kind, 'locked');
    assert.deepEqual(b.check('client:192.0.2.2'), { kind: 'delay', delayMs: 0 });
  });

  it('forgets failures older than the window', () => {
    const { box: b, advance } = box();
    for (let i = 0; i < 5; i++) b.fail('k');
    advance(600_001);
    assert.deepEqual(b.check('k'), { kind: 'delay', delayMs: 0 });
    b.sweep();
    assert.equal(b.tracked, 0);
  });

  it('forgets failures after a success, but not a lockout', () => {
    const { box: b } = box();
    for (let i = 0; i < 4; i++) b.fail('k');
    b.succeed('k');
    assert.deepEqual(b.check('k'), { kind: 'delay', delayMs: 0 });
    for (let i = 0; i < 6; i++) b.fail('k');
    b.succeed('k');
    assert.equal(b.check('k').kind, 'locked');
  });

  it('tracks at most maxKeys keys, dropping the least recently failed', () => {
    const { box: b } = box({ ...policy, maxKeys: 3 });
    for (const k of ['a', 'b', 'c', 'a', 'd']) b.fail(k);
    assert.equal(b.tracked, 3);
    assert.deepEqual(b.check('b'), { kind: 'delay', delayMs: 0 });
    for (let i = 0; i < 2; i++) b.fail('a');
    assert.equal((b.check('a') as { delayMs: number }).delayMs, 4000);
  });
});
