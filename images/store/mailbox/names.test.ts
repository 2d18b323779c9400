import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isStoreError } from './api.ts';
import { normaliseMailboxName, planRename, superiorsOf } from './names.ts';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    if (isStoreError(error)) return error.code;
    throw error;
  }
  return 'ok';
};

describe('normaliseMailboxName', () => {
  for (const [raw, expected] of [
    ['INBOX', 'INBOX'],
    ['inbox', 'INBOX'],
    ['InBoX/Sub', 'INBOX/Sub'],
    ['Inboxes', 'Inboxes'],
    ['Sent', 'Sent'],
    ['Ünïcödé/日本', 'Ünïcödé/日本'],
  ] as const)
    it(`spells ${raw} as ${expected}`, () => assert.equal(normaliseMailboxName(raw), expected));

  for (const [raw, expected] of [
    ['', 'CANNOT'],
    ['/a', 'CANNOT'],
    ['a/', 'CANNOT'],
    ['a//b', 'CANNOT'],
    ['a/../b', 'CANNOT'],
    ['a*', 'CANNOT'],
    ['50%', 'CANNOT'],
    ['tab\there', 'CANNOT'],
    [' lead', 'CANNOT'],
    ['x'.repeat(256), 'LIMIT'],
    [Array.from({ length: 17 }, () => 'a').join('/'), 'LIMIT'],
  ] as const)
    it(`refuses ${JSON.stringify(raw.slice(0, 20))} with ${expected}`, () =>
      assert.equal(
        code(() => normaliseMailboxName(raw)),
        expected,
      ));
});

describe('superiorsOf', () => {
  it('lists every level above a name, top first', () => assert.deepEqual(superiorsOf('a/b/c'), ['a', 'a/b']));
  it('is empty for a top-level name', () => assert.deepEqual(superiorsOf('a'), []));
});

describe('planRename', () => {
  const names = ['INBOX', 'INBOX/x', 'a', 'a/b', 'a/b/c', 'ab', 'z'];
  it('moves a mailbox with every inferior and nothing that only shares a prefix', () =>
    assert.deepEqual(planRename(names, 'a', 'q'), [
      ['a', 'q'],
      ['a/b', 'q/b'],
      ['a/b/c', 'q/b/c'],
    ]));
  it('moves INBOX alone, leaving its inferiors', () =>
    assert.deepEqual(planRename(names, 'INBOX', 'old'), [['INBOX', 'old']]));
  it('refuses a target that exists', () =>
    assert.equal(
      code(() => planRename(names, 'a', 'z')),
      'ALREADYEXISTS',
    ));
  it('refuses a target where an inferior would land on an existing name', () =>
    assert.equal(
      code(() => planRename([...names, 'q/b'], 'a', 'q')),
      'ALREADYEXISTS',
    ));
  it('refuses moving a mailbox under itself', () =>
    assert.equal(
      code(() => planRename(names, 'a', 'a/b/new')),
      'CANNOT',
    ));
  it('refuses INBOX as the target', () =>
    assert.equal(
      code(() => planRename(names, 'z', 'INBOX')),
      'CANNOT',
    ));
  it('refuses a source that does not exist', () =>
    assert.equal(
      code(() => planRename(names, 'nope', 'x')),
      'NONEXISTENT',
    ));
});
