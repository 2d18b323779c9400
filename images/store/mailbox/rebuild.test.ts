import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planRebuild } from './rebuild.ts';

const now = 1_764_000_000_000;

describe('planRebuild', () => {
  const scanned = [
    {
      id: 1,
      meta: { name: 'INBOX', uidValidity: 1_700_000_000, uidNextFloor: 20, specialUse: null },
      files: [
        { uid: 3, size: 100, mtimeMs: 1000 },
        { uid: 1, size: 50, mtimeMs: 900 },
      ],
    },
    {
      id: 4,
      meta: { name: 'Work/2025', uidValidity: 1_700_000_100, uidNextFloor: 1, specialUse: null },
      files: [{ uid: 7, size: 1, mtimeMs: 1 }],
    },
    { id: 5, meta: undefined, files: [{ uid: 2, size: 1, mtimeMs: 1 }] },
  ];
  const plan = planRebuild(scanned, ['INBOX', 'Work/2025'], now);
  const byName = new Map(plan.mailboxes.map((m) => [m.name, m]));

  it('keeps UIDs, UIDVALIDITY and the UIDNEXT floor where mailbox.json says them', () => {
    const inbox = byName.get('INBOX')!;
    assert.equal(inbox.uidValidity, 1_700_000_000);
    assert.deepEqual(
      inbox.messages.map((m) => m.uid),
      [1, 3],
    );
    assert.equal(inbox.uidNext, 20);
    assert.equal(inbox.messages[0]!.internalDate, 900);
  });
  it('gives a mailbox without readable metadata a name under Recovered and a new UIDVALIDITY', () => {
    const recovered = byName.get('Recovered/5')!;
    assert.ok(recovered.uidValidity > 1_700_000_100);
    assert.equal(plan.newUidValidity, 1);
  });
  it('adds \\Noselect superiors for names whose parents have no directory', () => {
    assert.equal(byName.get('Work')?.selectable, false);
    assert.equal(byName.get('Recovered')?.selectable, false);
  });
  it('keeps the subscriptions that were saved', () =>
    assert.deepEqual(plan.subscriptions, ['INBOX', 'Work/2025']));
  it('gives every mailbox one MODSEQ above anything before', () => assert.ok(plan.modseq >= now * 1000));
  it('creates an INBOX when none was found', () => {
    const empty = planRebuild([], undefined, now);
    assert.deepEqual(
      empty.mailboxes.map((m) => m.name),
      ['INBOX'],
    );
  });
});
