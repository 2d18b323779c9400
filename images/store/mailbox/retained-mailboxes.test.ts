import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RetainedMailboxes } from './retained-mailboxes.ts';

describe('RetainedMailboxes', () => {
  const mailbox = (name: string) => ({ name });

  it('keeps mailboxes within the budget, the least recently retained out first', () => {
    const retained = new RetainedMailboxes(100);
    const evicted: string[] = [];
    const [a, b, c] = [mailbox('a'), mailbox('b'), mailbox('c')];
    assert.equal(
      retained.retain(a, 10, () => evicted.push('a')),
      true,
    );
    retained.retain(b, 10, () => evicted.push('b'));
    retained.release(a); // selected again
    retained.retain(a, 10, () => evicted.push('a')); // and left again: now the newest
    for (let i = 0; i < 8; i++) retained.retain(mailbox(`x${i}`), 10, () => evicted.push(`x${i}`));
    assert.deepEqual(retained.size, { mailboxes: 10, messages: 100 });
    retained.retain(c, 10, () => evicted.push('c'));
    assert.deepEqual(evicted, ['b'], 'b was retained longest ago; a was retained again after it');
    assert.deepEqual(retained.size, { mailboxes: 10, messages: 100 });
  });

  it('refuses a mailbox over a tenth of the budget, and drops one that grows past it', () => {
    const retained = new RetainedMailboxes(100);
    const evicted: string[] = [];
    assert.equal(retained.maxMailboxMessages, 10);
    assert.equal(
      retained.retain(mailbox('big'), 11, () => evicted.push('big')),
      false,
    );
    const growing = mailbox('growing');
    retained.retain(growing, 10, () => evicted.push('growing'));
    retained.resize(growing, 9);
    assert.deepEqual(retained.size, { mailboxes: 1, messages: 9 });
    retained.resize(growing, 11);
    assert.deepEqual(evicted, ['growing']);
    assert.deepEqual(retained.size, { mailboxes: 0, messages: 0 });
  });

  it('evicts to make room when a retained mailbox grows', () => {
    const retained = new RetainedMailboxes(40);
    const evicted: string[] = [];
    const [a, b] = [mailbox('a'), mailbox('b')];
    retained.retain(a, 1, () => evicted.push('a'));
    retained.retain(b, 1, () => evicted.push('b'));
    for (let i = 0; i < 9; i++) retained.retain(mailbox(`x${i}`), 4, () => evicted.push(`x${i}`));
    assert.deepEqual(evicted, [], '1 + 1 + 36 messages fit in 40');
    retained.resize(b, 4);
    assert.deepEqual(evicted, ['a'], 'b grew by 3: the oldest went to make room, b stayed');
    retained.release(b);
    retained.release(b);
    assert.deepEqual(retained.size, { mailboxes: 9, messages: 36 });
  });
});
