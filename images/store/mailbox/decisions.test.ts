import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assignUids,
  decodeAfterCommit,
  encodeAfterCommit,
  modseqAfterRebuild,
  nextUidValidity,
  orphanUids,
  quotaAllows,
  uidFloorBeforeExpunge,
  UID_FLOOR_RESERVE,
  uidNextAfterRebuild,
} from './decisions.ts';

describe('nextUidValidity', () => {
  for (const [last, now, expected, why] of [
    [0, 1_700_000_000_000, 1_700_000_000, 'takes the clock for a first mailbox'],
    [1_700_000_000, 1_700_000_000_500, 1_700_000_001, 'moves past a value given in the same second'],
    [1_800_000_000, 1_700_000_000_000, 1_800_000_001, 'never goes back when the clock does'],
    [0xffffffff, 1_700_000_000_000, 1, 'wraps to 1 rather than overflow 32 bits'],
  ] as const)
    it(why, () => assert.equal(nextUidValidity(last, now), expected));
});

describe('assignUids', () => {
  it('gives consecutive UIDs from UIDNEXT and moves UIDNEXT past them', () =>
    assert.deepEqual(assignUids(7, 3), { uids: [7, 8, 9], uidNext: 10 }));
  it('gives nothing for nothing', () => assert.deepEqual(assignUids(7, 0), { uids: [], uidNext: 7 }));
});

describe('after a rebuild', () => {
  it('starts MODSEQs above any a client could have seen, and below 2^53', () => {
    const m = modseqAfterRebuild(0, 1_764_000_000_000);
    assert.ok(m > 1e15 && m < Number.MAX_SAFE_INTEGER);
    assert.ok(modseqAfterRebuild(m, 1_764_000_000_000) > m, 'a second rebuild in the same ms still grows');
  });
  for (const [uids, floor, expected, why] of [
    [[1, 2, 9], 1, 10, 'UIDNEXT is past the highest file'],
    [[1, 2], 12, 12, 'the floor written at an expunge of the newest message wins'],
    [[], 1, 1, 'an empty mailbox starts at 1'],
  ] as const)
    it(why, () => assert.equal(uidNextAfterRebuild(uids, floor), expected));
});

describe('uidFloorBeforeExpunge', () => {
  for (const [newest, uidNext, written, expected, why] of [
    [10, 11, undefined, 11 + UID_FLOOR_RESERVE, 'writes a reserve past UIDNEXT when the file is unknown'],
    [10, 11, 11, undefined, 'writes nothing while the written floor is above the newest UID'],
    [11, 12, 11, 12 + UID_FLOOR_RESERVE, 'writes again once the newest UID reaches the floor'],
    [500, 2000, 600, undefined, 'the newest UID below a floor from an earlier reserve needs nothing'],
  ] as const)
    it(why, () => assert.equal(uidFloorBeforeExpunge(newest, uidNext, written), expected));
});

describe('quotaAllows', () => {
  const quota = (usage: number, limit: number | undefined, count = 0, countLimit?: number) => ({
    root: '' as const,
    storage: { usage, limit },
    messages: { usage: count, limit: countLimit },
  });
  for (const [q, messages, bytes, expected, why] of [
    [quota(90, 100), 1, 10, true, 'allows reaching the limit exactly'],
    [quota(90, 100), 1, 11, false, 'refuses going over the storage limit'],
    [quota(1e12, undefined), 1, 1e9, true, 'has no limit when none is set'],
    [quota(0, undefined, 5, 5), 1, 1, false, 'refuses going over the message limit'],
  ] as const)
    it(why, () => assert.equal(quotaAllows(q, messages, bytes), expected));
});

describe('orphanUids', () => {
  it('finds the files from UIDNEXT up that no commit covered, stopping at the first gap', () => {
    const files = new Set([1, 2, 5, 6, 8]);
    assert.deepEqual(
      orphanUids(5, (u) => files.has(u)),
      [5, 6],
    );
  });
  it('finds none when UIDNEXT has no file', () =>
    assert.deepEqual(
      orphanUids(3, () => false),
      [],
    ));
});

describe('after_commit actions', () => {
  it('read back what was written', () => {
    const action = { kind: 'unlink', path: '/x/1' } as const;
    assert.deepEqual(decodeAfterCommit(encodeAfterCommit(action)), action);
  });
  it('ignore a row that is not an action', () => assert.equal(decodeAfterCommit('{broken'), undefined));
});
