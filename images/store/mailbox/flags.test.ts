import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isStoreError } from './api.ts';
import { applyStore, flagStrings, mergeKeywords, parseFlags, sameFlags } from './flags.ts';

const set = (...flags: string[]) => parseFlags(flags);
const strings = (...flags: string[]) => flagStrings(set(...flags));

describe('parseFlags', () => {
  it('spells system flags canonically, in a fixed order, keywords after', () =>
    assert.deepEqual(strings('$Label1', '\\deleted', '\\SEEN'), ['\\Seen', '\\Deleted', '$Label1']));
  it('keeps the first spelling of a keyword given twice in different case', () =>
    assert.deepEqual(strings('Work', 'WORK', 'work'), ['Work']));
  for (const bad of ['\\Recent', '\\Unknown', 'has space', 'paren(', 'q"uote', 'br]acket'])
    it(`refuses ${bad}`, () =>
      assert.throws(
        () => parseFlags([bad]),
        (e) => isStoreError(e),
      ));
});

describe('applyStore', () => {
  const current = set('\\Seen', 'Work');
  for (const [mode, change, expected] of [
    ['add', ['\\Flagged', 'work', 'Home'], ['\\Seen', '\\Flagged', 'Work', 'Home']],
    ['remove', ['\\Seen', 'WORK'], []],
    ['remove', ['\\Draft'], ['\\Seen', 'Work']],
    ['replace', ['\\Answered'], ['\\Answered']],
  ] as const)
    it(`${mode} ${change.join(' ')} gives ${expected.join(' ') || 'no flags'}`, () =>
      assert.deepEqual(flagStrings(applyStore(current, mode, set(...change))), expected));

  it('sees flags as unchanged when only the order or case of keywords differs', () =>
    assert.ok(sameFlags(set('A', 'b', '\\Seen'), set('\\Seen', 'B', 'a'))));
});

describe('mergeKeywords', () => {
  it('adds only keywords not yet known, case-insensitively', () =>
    assert.deepEqual(mergeKeywords(['A'], ['a', 'B']), ['A', 'B']));
  it('refuses to take a mailbox past its keyword limit', () =>
    assert.throws(
      () =>
        mergeKeywords(
          Array.from({ length: 200 }, (_, i) => `k${i}`),
          ['one-more'],
        ),
      (e) => isStoreError(e, 'LIMIT'),
    ));
});
