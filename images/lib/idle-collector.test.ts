import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { collectAllGarbage, QuietPeriod } from './idle-collector.ts';

describe('QuietPeriod', () => {
  const policy = { quietMs: 5_000, minGrowthMiB: 16 };

  it('is due once a quiet period follows activity that grew memory', () => {
    const period = new QuietPeriod(policy, 80);
    assert.equal(period.due(1_000, 120), false, 'no activity yet');
    period.activity(1_000);
    assert.equal(period.due(5_999, 120), false, 'not quiet long enough');
    assert.equal(period.due(6_000, 120), true);
    period.collected(100);
    assert.equal(period.due(20_000, 120), false, 'no activity since');
  });

  it('counts growth from what the last collection left', () => {
    const period = new QuietPeriod(policy, 80);
    period.activity(0);
    assert.equal(period.due(5_000, 110), true);
    period.collected(100);
    period.activity(10_000);
    assert.equal(period.due(15_000, 115), false, '15 MiB over the last collection');
    period.activity(20_000);
    assert.equal(period.due(25_000, 116), true);
  });

  it('lets a trickle of connections pass without a pause', () => {
    const period = new QuietPeriod(policy, 80);
    for (let t = 0; t < 60_000; t += 6_000) {
      period.activity(t);
      assert.equal(period.due(t + 5_500, 85), false);
    }
  });

  it('waits while activity goes on', () => {
    const period = new QuietPeriod(policy, 80);
    for (let t = 0; t < 20_000; t += 1_000) {
      period.activity(t);
      assert.equal(period.due(t + 500, 200), false);
    }
  });
});

describe('collectAllGarbage', () => {
  it('collects what nothing holds and says how long it paused', async () => {
    // Made and dropped in a function of its own: nothing here holds it but the WeakRef.
    const probe = (() => new WeakRef(Array.from({ length: 200_000 }, (_, i) => ({ i, s: `item ${i}` }))))();
    // A WeakRef holds its target until the job that made it is over.
    await new Promise(setImmediate);
    const collection = collectAllGarbage();
    assert.equal(probe.deref(), undefined);
    assert.ok(collection.pauseMs > 0);
    assert.ok(collection.rssAfterMiB > 0 && collection.rssBeforeMiB > 0);
  });
});
