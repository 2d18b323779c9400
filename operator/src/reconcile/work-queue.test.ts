import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkQueue } from './work-queue.ts';

/** Resolves once `condition` holds, checked after every handler call: no fixed sleeps. */
function when(condition: () => boolean): { check: () => void; reached: Promise<void> } {
  const { promise, resolve } = Promise.withResolvers<void>();
  const check = () => {
    if (condition()) resolve();
  };
  return { check, reached: promise };
}

const options = { baseDelayMs: 10, maxDelayMs: 1000, retriesPerSecond: 1000, retryBurst: 100 };

describe('WorkQueue', () => {
  it('holds a waiting key once however often it is added', async () => {
    const queue = new WorkQueue(options);
    const seen: string[] = [];
    for (const key of ['a', 'b', 'a', 'a', 'b']) queue.add(key);
    assert.equal(queue.depth, 2);
    const drained = when(() => queue.depth === 0);
    const running = queue.run(
      1,
      (key) => (seen.push(key), drained.check(), Promise.resolve('done' as const)),
      () => {},
    );
    await drained.reached;
    queue.shutdown();
    await running;
    assert.deepEqual(seen, ['a', 'b']);
  });

  it('never gives one key to two workers, and reruns a key added while it ran', async () => {
    const queue = new WorkQueue(options);
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    let finished = 0;
    const secondDone = when(() => finished === 2);
    const running = queue.run(
      4,
      async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        runs++;
        if (runs === 1) queue.add('k');
        // Give the other three workers every chance to take the key while this one holds it.
        await new Promise((resolve) => setImmediate(resolve));
        active--;
        finished++;
        secondDone.check();
        return 'done';
      },
      () => {},
    );
    queue.add('k');
    queue.add('k');
    await secondDone.reached;
    // A third run would have been queued by now if the dirty mark were kept twice.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(queue.depth, 0);
    queue.shutdown();
    await running;
    assert.equal(maxActive, 1);
    assert.equal(runs, 2, 'the add during the first run causes exactly one more');
  });

  it('backs off exponentially per key and forgets on success', () => {
    const queue = new WorkQueue(options);
    assert.deepEqual(
      [1, 2, 3, 4].map(() => queue.retryDelay('x')),
      [10, 20, 40, 80],
    );
    assert.equal(queue.retryDelay('y'), 10, 'keys back off independently');
    queue.forget('x');
    assert.equal(queue.retryDelay('x'), 10);
  });

  it('caps the backoff', () => {
    const queue = new WorkQueue(options);
    let last = 0;
    for (let i = 0; i < 20; i++) last = queue.retryDelay('x');
    assert.equal(last, 1000);
  });

  it('spaces retries out globally once the burst is spent', () => {
    let now = 0;
    const queue = new WorkQueue({
      baseDelayMs: 1,
      maxDelayMs: 1,
      retriesPerSecond: 10,
      retryBurst: 2,
      now: () => now,
    });
    const delays = ['a', 'b', 'c', 'd'].map((k) => queue.retryDelay(k));
    assert.deepEqual(delays, [1, 1, 100, 200]);
    now = 10_000;
    assert.equal(queue.retryDelay('e'), 1, 'the bucket refills over time');
  });

  it('hands out nothing after shutdown, not even the keys still waiting', async () => {
    const queue = new WorkQueue(options);
    const seen: string[] = [];
    const first = when(() => seen.length === 1);
    const release = Promise.withResolvers<void>();
    const running = queue.run(
      1,
      async (key) => {
        seen.push(key);
        first.check();
        await release.promise;
        return 'done';
      },
      () => {},
    );
    for (const key of ['a', 'b', 'c']) queue.add(key);
    await first.reached;
    queue.shutdown();
    release.resolve();
    await running;
    assert.deepEqual(seen, ['a'], 'the key in hand finishes; b and c are left');
  });

  it('keeps retrying on time when the clock steps back', () => {
    let now = 1_000_000;
    const queue = new WorkQueue({ ...options, now: () => now });
    assert.equal(queue.retryDelay('a'), 10);
    now -= 60_000; // a minute back, as a wall clock corrected by NTP
    assert.equal(queue.retryDelay('b'), 10, 'the bucket is not drained by a negative interval');
  });

  it('retries a failing key until it succeeds', async () => {
    const queue = new WorkQueue(options);
    let attempts = 0;
    const errors: unknown[] = [];
    const succeeded = when(() => attempts === 3);
    const running = queue.run(
      1,
      () => {
        attempts++;
        succeeded.check();
        if (attempts < 3) return Promise.reject(new Error('API server unavailable'));
        return Promise.resolve('done' as const);
      },
      (_key, error) => errors.push(error),
    );
    queue.add('k');
    await succeeded.reached;
    await new Promise((resolve) => setImmediate(resolve));
    queue.shutdown();
    await running;
    assert.equal(attempts, 3);
    assert.equal(errors.length, 2);
    assert.equal(queue.retries, 2);
  });
});
