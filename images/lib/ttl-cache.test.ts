import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TtlCache } from './ttl-cache.ts';

describe('TtlCache', () => {
  it('returns a value until its time is up, then forgets it', () => {
    let now = 1000;
    const cache = new TtlCache<string, number>({ ttlMs: 50, now: () => now });
    cache.set('a', 1);
    now = 1049;
    assert.equal(cache.get('a'), 1);
    now = 1050;
    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.size, 0);
  });

  it('keeps a cached null apart from a miss', () => {
    const cache = new TtlCache<string, number | null>({ ttlMs: 1000 });
    cache.set('unknown', null);
    assert.equal(cache.get('unknown'), null);
    assert.equal(cache.get('never-set'), undefined);
  });

  it('evicts the oldest write when full', () => {
    const cache = new TtlCache<string, number>({ ttlMs: 1000, maxEntries: 2 });
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.get('b'), 2);
    assert.equal(cache.get('c'), 3);
  });

  it('caches nothing with a zero time to live', () => {
    const cache = new TtlCache<string, number>({ ttlMs: 0 });
    cache.set('a', 1);
    assert.equal(cache.get('a'), undefined);
  });
});
