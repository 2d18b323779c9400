import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientConnections, ClientRateLimiter } from './client-limits.ts';

describe('ClientRateLimiter', () => {
  it('allows a minute of messages at once, then refuses until time refills the allowance', () => {
    let now = 0;
    const limiter = new ClientRateLimiter(3, () => now);
    assert.deepEqual(
      [1, 2, 3, 4].map(() => limiter.take('192.0.2.1')),
      [true, true, true, false],
    );
    now = 19_999;
    assert.equal(limiter.take('192.0.2.1'), false);
    now = 20_000; // 60 s / 3 messages
    assert.equal(limiter.take('192.0.2.1'), true);
    assert.equal(limiter.take('192.0.2.1'), false);
  });

  it('counts each client on its own', () => {
    const limiter = new ClientRateLimiter(1, () => 0);
    assert.equal(limiter.take('a'), true);
    assert.equal(limiter.take('a'), false);
    assert.equal(limiter.take('b'), true);
  });

  it('forgets clients whose allowance is full again', () => {
    let now = 0;
    const limiter = new ClientRateLimiter(2, () => now);
    limiter.take('a');
    now = 60_000;
    limiter.sweep();
    assert.equal(limiter.tracked, 0);
  });
});

describe('ClientConnections', () => {
  it('counts open connections per client down to nothing', () => {
    const counter = new ClientConnections();
    assert.equal(counter.open('a'), 1);
    assert.equal(counter.open('a'), 2);
    counter.close('a');
    counter.close('a');
    assert.equal(counter.count('a'), 0);
  });
});
