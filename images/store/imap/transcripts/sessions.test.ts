// Two sessions of one user see each other's changes (RFC 9051 7.4.1): EXISTS, EXPUNGE, FETCH
// FLAGS after a command or pushed during IDLE; CONDSTORE and QRESYNC resynchronization.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startImapFixture, TranscriptClient, type ImapFixture } from '../testing/imap-fixture.ts';

let fx: ImapFixture;
before(async () => (fx = await startImapFixture()));
after(async () => fx?.stop());

const tagged = (lines: string[]) => lines.at(-1)!;

async function append(c: TranscriptClient, subject: string, mailbox = 'INBOX'): Promise<void> {
  const message = `Subject: ${subject}\r\n\r\nbody\r\n`;
  c.write(`ap APPEND ${mailbox} {${message.length}+}\r\n${message}\r\n`);
  assert.match(tagged(await c.until('ap')), /^ap OK/);
}

describe('IMAP sessions see each other', () => {
  it('hears EXISTS, FETCH FLAGS and EXPUNGE from another session at its next command', async () => {
    const user = 'pair@example.test';
    const a = await TranscriptClient.login(fx.port, user);
    const b = await TranscriptClient.login(fx.port, user);
    await append(a, 'one');
    await a.command('s SELECT INBOX');
    await b.command('s SELECT INBOX');
    await append(b, 'two');
    assert.deepEqual(await a.command('n1 NOOP'), ['* 2 EXISTS', '* 2 RECENT', 'n1 OK NOOP completed']);
    await b.command('f STORE 1 +FLAGS.SILENT (\\Deleted)');
    assert.deepEqual(await a.command('n2 NOOP'), [
      '* 1 FETCH (UID 1 FLAGS (\\Deleted \\Recent))',
      'n2 OK NOOP completed',
    ]);
    await b.command('e EXPUNGE');
    // No EXPUNGE during FETCH by sequence number (the numbers would move); UID FETCH may have it.
    assert.deepEqual(await a.command('f1 FETCH 1 UID'), ['* 1 FETCH (UID 1)', 'f1 OK FETCH completed']);
    assert.deepEqual(await a.command('f2 UID FETCH 2 UID'), [
      '* 2 FETCH (UID 2)',
      '* 1 EXPUNGE',
      'f2 OK FETCH completed',
    ]);
    assert.deepEqual(await a.command('f3 FETCH 1 UID'), ['* 1 FETCH (UID 2)', 'f3 OK FETCH completed']);
    a.close();
    b.close();
  });

  it('pushes changes during IDLE and ends IDLE on DONE', async () => {
    const user = 'idle@example.test';
    const a = await TranscriptClient.login(fx.port, user);
    const b = await TranscriptClient.login(fx.port, user);
    await a.command('s SELECT INBOX');
    a.write('i IDLE\r\n');
    assert.equal(await a.readLine(), '+ idling');
    await append(b, 'while idle');
    assert.equal(await a.readLine(), '* 1 EXISTS');
    assert.equal(await a.readLine(), '* 1 RECENT');
    await b.command('s SELECT INBOX');
    await b.command('f STORE 1 +FLAGS (\\Flagged)');
    assert.equal(await a.readLine(), '* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent))');
    a.write('DONE\r\n');
    assert.equal(await a.readLine(), 'i OK IDLE terminated');
    a.write('j IDLE\r\n');
    await a.readLine();
    a.write('NOPE\r\n');
    assert.equal(await a.readLine(), 'j BAD Expected DONE');
    a.close();
    b.close();
  });

  it('resynchronizes with CONDSTORE (CHANGEDSINCE) and QRESYNC (VANISHED (EARLIER))', async () => {
    const user = 'resync@example.test';
    const a = await TranscriptClient.login(fx.port, user);
    for (const s of ['m1', 'm2', 'm3']) await append(a, s);
    const selected = await a.command('s SELECT INBOX (CONDSTORE)');
    const uidValidity = Number(/UIDVALIDITY (\d+)/.exec(selected.join('\n'))![1]);
    const modseq = Number(/HIGHESTMODSEQ (\d+)/.exec(selected.join('\n'))![1]);
    await a.command('f STORE 2 +FLAGS.SILENT (\\Seen)');
    await a.command('g STORE 3 +FLAGS.SILENT (\\Deleted)');
    const expunged = await a.command('h EXPUNGE');
    assert.match(tagged(expunged), /^h OK \[HIGHESTMODSEQ \d+\] EXPUNGE completed$/);
    const changed = await a.command(`i FETCH 1:* (FLAGS) (CHANGEDSINCE ${modseq})`);
    assert.deepEqual(
      changed.map((l) => l.replace(/MODSEQ \(\d+\)/, 'MODSEQ (n)')),
      ['* 2 FETCH (FLAGS (\\Seen \\Recent) MODSEQ (n))', 'i OK FETCH completed'],
    );
    a.close();

    const b = await TranscriptClient.login(fx.port, user);
    assert.deepEqual(await b.command('e ENABLE QRESYNC'), ['* ENABLED QRESYNC', 'e OK ENABLE completed']);
    const resync = await b.command(`s SELECT INBOX (QRESYNC (${uidValidity} ${modseq} 1:3))`);
    assert.ok(resync.includes('* VANISHED (EARLIER) 3'), resync.join('\n'));
    assert.ok(
      resync.some((l) => /^\* 2 FETCH \(UID 2 FLAGS \(\\Seen\) MODSEQ \(\d+\)\)$/.test(l)),
      resync.join('\n'),
    );
    assert.match(tagged(resync), /^s OK \[READ-WRITE\]/);
    const vanished = await b.command(`v UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${modseq} VANISHED)`);
    assert.equal(vanished[0], '* VANISHED (EARLIER) 3');
    // With QRESYNC, expunges are VANISHED, and a new SELECT says [CLOSED] first.
    await b.command('t STORE 1 +FLAGS.SILENT (\\Deleted)');
    assert.deepEqual((await b.command('x EXPUNGE')).slice(0, 1), ['* VANISHED 1']);
    assert.equal((await b.command('y EXAMINE INBOX'))[0], '* OK [CLOSED] Previous mailbox closed');
    assert.match(tagged(await b.command('z SELECT INBOX (QRESYNC (1 2))')), /^z OK/);
    b.close();
  });

  it('tells an IDLE client BYE [UNAVAILABLE] on drain, so it reconnects elsewhere', async () => {
    const own = await startImapFixture();
    const c = await TranscriptClient.login(own.port, 'drain@example.test');
    await c.command('s SELECT INBOX');
    c.write('i IDLE\r\n');
    assert.equal(await c.readLine(), '+ idling');
    const stopped = own.stop();
    assert.equal(await c.readLine(), '* BYE [UNAVAILABLE] Server shutting down, reconnect elsewhere');
    await stopped;
  });

  it('streams a big message from the file and it arrives byte for byte', async () => {
    const c = await TranscriptClient.login(fx.port, 'big@example.test');
    const line = `${'0123456789'.repeat(7)}\r\n`;
    const message = `Subject: big\r\n\r\n${line.repeat(50_000)}`; // 3.6 MB: over the streaming threshold
    c.write(`ap APPEND INBOX {${message.length}+}\r\n`);
    await c.writeAndDrain(Buffer.from(`${message}\r\n`));
    assert.match(tagged(await c.until('ap')), /^ap OK/);
    await c.command('s SELECT INBOX');
    const reply = await c.command('f FETCH 1 (UID BODY[] RFC822.SIZE)', 30_000);
    // The streamed literal goes last; the order of FETCH items is the server's to choose.
    assert.equal(
      reply[0],
      `* 1 FETCH (UID 1 RFC822.SIZE ${message.length} FLAGS (\\Seen \\Recent) BODY[] {${message.length}}\r\n${message})`,
    );
    assert.equal(tagged(reply), 'f OK FETCH completed');
    c.close();
  });

  it('speaks IMAP4rev2 after ENABLE IMAP4rev2: no \\Recent or RECENT, LIST in SELECT, ESEARCH answers', async () => {
    const c = await TranscriptClient.login(fx.port, 'rev2@example.test');
    await append(c, 'rev2');
    assert.deepEqual(await c.command('e ENABLE IMAP4rev2'), ['* ENABLED IMAP4rev2', 'e OK ENABLE completed']);
    const selected = await c.command('s SELECT INBOX');
    assert.ok(selected.includes('* LIST () "/" "INBOX"'), selected.join('\n'));
    assert.ok(!selected.some((l) => /RECENT|UNSEEN/.test(l)), selected.join('\n'));
    assert.deepEqual(await c.command('f FETCH 1 FLAGS'), ['* 1 FETCH (FLAGS ())', 'f OK FETCH completed']);
    assert.deepEqual(await c.command('g SEARCH ALL'), ['* ESEARCH (TAG "g") ALL 1', 'g OK SEARCH completed']);
    c.close();
  });
});
