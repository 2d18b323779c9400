// Folder commands on the real engine: CREATE/DELETE/RENAME, subscriptions, LIST's extensions,
// STATUS with SIZE, modified UTF-7 names, QUOTA.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startImapFixture, TranscriptClient, type ImapFixture } from '../testing/imap-fixture.ts';

let fx: ImapFixture;
before(async () => (fx = await startImapFixture({ quotaBytes: 1024 * 1024 })));
after(async () => fx?.stop());

const tagged = (lines: string[]) => lines.at(-1)!;

describe('IMAP mailboxes', () => {
  it('creates, lists with children, renames with inferiors and deletes', async () => {
    const c = await TranscriptClient.login(fx.port, 'folders@example.test');
    assert.match(tagged(await c.command('a CREATE Projects/2026/')), /^a OK/);
    assert.match(tagged(await c.command('b CREATE Projects')), /^b NO \[ALREADYEXISTS\]/);
    assert.deepEqual(await c.command('c LIST "" Projects*'), [
      '* LIST (\\HasChildren) "/" "Projects"',
      '* LIST (\\HasNoChildren) "/" "Projects/2026"',
      'c OK LIST completed',
    ]);
    assert.deepEqual(await c.command('d LIST "" %/%'), [
      '* LIST (\\HasNoChildren) "/" "Projects/2026"',
      'd OK LIST completed',
    ]);
    assert.match(tagged(await c.command('e RENAME Projects Work')), /^e OK/);
    assert.deepEqual((await c.command('f LIST Work/ *')).slice(0, -1), [
      '* LIST (\\HasNoChildren) "/" "Work/2026"',
    ]);
    // The pattern is appended to the reference as is: "Work" + "*" matches Work itself too.
    assert.deepEqual((await c.command('f2 LIST Work *')).slice(0, -1), [
      '* LIST (\\HasChildren) "/" "Work"',
      '* LIST (\\HasNoChildren) "/" "Work/2026"',
    ]);
    assert.match(tagged(await c.command('g DELETE Work/2026')), /^g OK/);
    assert.match(tagged(await c.command('h DELETE INBOX')), /^h NO \[CANNOT\]/);
    assert.match(tagged(await c.command('i SELECT Nowhere')), /^i NO \[NONEXISTENT\]/);
    assert.deepEqual(await c.command('j LIST "" ""'), ['* LIST (\\Noselect) "/" ""', 'j OK LIST completed']);
    c.close();
  });

  it('keeps non-ASCII names in modified UTF-7 on the wire (RFC 3501 5.1.3)', async () => {
    const c = await TranscriptClient.login(fx.port, 'utf7@example.test');
    assert.match(tagged(await c.command('a CREATE Entw&APw-rfe')), /^a OK/);
    assert.ok((await c.command('b LIST "" Entw*')).includes('* LIST (\\HasNoChildren) "/" "Entw&APw-rfe"'));
    assert.match(tagged(await c.command('c CREATE "bad&Jjo"')), /^c BAD .*modified UTF-7/);
    c.close();
  });

  it('subscribes, lists subscriptions with LSUB and LIST (SUBSCRIBED), marks a missing one \\NonExistent', async () => {
    const c = await TranscriptClient.login(fx.port, 'subs@example.test');
    await c.command('a CREATE Lists');
    await c.command('b SUBSCRIBE Lists');
    await c.command('c SUBSCRIBE Gone');
    assert.deepEqual(await c.command('d LSUB "" L*'), ['* LSUB () "/" "Lists"', 'd OK LSUB completed']);
    assert.deepEqual(await c.command('e LIST (SUBSCRIBED) "" "*o*"'), [
      '* LIST (\\NonExistent \\Subscribed) "/" "Gone"',
      'e OK LIST completed',
    ]);
    await c.command('f UNSUBSCRIBE Gone');
    assert.deepEqual(await c.command('g LSUB "" G*'), ['g OK LSUB completed']);
    c.close();
  });

  it('answers LIST RETURN (SPECIAL-USE STATUS) and LIST (SPECIAL-USE)', async () => {
    const c = await TranscriptClient.login(fx.port, 'special@example.test');
    const lines = await c.command('a LIST (SPECIAL-USE) "" * RETURN (STATUS (MESSAGES UIDNEXT SIZE))');
    assert.ok(lines.includes('* LIST (\\HasNoChildren \\Sent) "/" "Sent"'));
    assert.ok(lines.includes('* STATUS "Sent" (MESSAGES 0 UIDNEXT 1 SIZE 0)'));
    assert.ok(!lines.some((l) => l.includes('"INBOX"')));
    assert.match(tagged(await c.command('b CREATE Outbox (USE (\\Sent))')), /^b OK/);
    assert.match(tagged(await c.command('c CREATE Odd (USE (\\Important))')), /^c NO \[USEATTR\]/);
    c.close();
  });

  it('reports STATUS with SIZE, DELETED and HIGHESTMODSEQ after an APPEND', async () => {
    const c = await TranscriptClient.login(fx.port, 'status@example.test');
    c.write('a APPEND INBOX (\\Deleted) {20+}\r\nSubject: s\r\n\r\nbody\r\n\r\n');
    assert.match(tagged(await c.until('a')), /^a OK \[APPENDUID \d+ 1\]/);
    const [line] = await c.command('b STATUS INBOX (MESSAGES UNSEEN DELETED SIZE HIGHESTMODSEQ APPENDLIMIT)');
    assert.match(
      line!,
      /^\* STATUS "INBOX" \(MESSAGES 1 UNSEEN 1 DELETED 1 SIZE 20 HIGHESTMODSEQ \d+ APPENDLIMIT 10485760\)$/,
    );
    assert.match(tagged(await c.command('c STATUS INBOX (BOGUS)')), /^c BAD/);
    c.close();
  });

  it('reports QUOTA for the one root "" and refuses SETQUOTA', async () => {
    const c = await TranscriptClient.login(fx.port, 'quota@example.test');
    assert.deepEqual(await c.command('a GETQUOTAROOT INBOX'), [
      '* QUOTAROOT "INBOX" ""',
      '* QUOTA "" (STORAGE 0 1024)',
      'a OK GETQUOTAROOT completed',
    ]);
    assert.match(tagged(await c.command('b SETQUOTA "" (STORAGE 1)')), /^b NO \[NOPERM\]/);
    assert.match(tagged(await c.command('c GETQUOTA "other"')), /^c NO/);
    assert.deepEqual(await c.command('d NAMESPACE'), [
      '* NAMESPACE (("" "/")) NIL NIL',
      'd OK NAMESPACE completed',
    ]);
    c.close();
  });
});
