import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SmallMessageCache } from './small-message-cache.ts';

describe('SmallMessageCache', () => {
  it('keeps messages up to its size in bytes, the least recently used going first', () => {
    const cache = new SmallMessageCache(10);
    cache.set('a', Buffer.from('aaaa'));
    cache.set('b', Buffer.from('bbbb'));
    assert.equal(cache.get('a')?.toString(), 'aaaa'); // a is now the most recent
    cache.set('c', Buffer.from('cccc'));
    assert.equal(cache.get('b'), undefined);
    assert.deepEqual(
      [cache.get('a')?.toString(), cache.get('c')?.toString(), cache.bytes],
      ['aaaa', 'cccc', 8],
    );
    cache.set('big', Buffer.alloc(11));
    assert.equal(cache.get('big'), undefined, 'bigger than the whole cache: not kept');
  });
});
