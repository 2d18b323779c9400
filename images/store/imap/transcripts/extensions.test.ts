// The extensions added for issue 10's gaps, as transcripts against the real engine: UTF8=ACCEPT
// (RFC 6855), SEARCHRES (RFC 5182), QRESYNC's sequence match data (RFC 7162 3.2.5.2), and SEARCH /
// FETCH of header fields reading the header block alone.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startImapFixture, TranscriptClient, type ImapFixture } from '../testing/imap-fixture.ts';

let fx: ImapFixture;
before(async () => (fx = await startImapFixture()));
after(async () => fx?.stop());

const tagged = (lines: string[]) => lines.at(-1)!;
/** The transcript client reads bytes as latin1: UTF-8 on the wire reads back like this. */
const wire = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

async function append(c: TranscriptClient, message: string, mailbox = 'INBOX'): Promise<string> {
  const bytes = Buffer.byteLength(message);
  c.write(`ap APPEND ${mailbox} {${bytes}+}\r\n${message}\r\n`);
  const line = tagged(await c.until('ap'));
  assert.match(line, /^ap OK/);
  return line;
}

describe('UTF8=ACCEPT (RFC 6855)', () => {
  it('is advertised and enabled; then mailbox names are UTF-8 both ways', async () => {
    const c = await TranscriptClient.login(fx.port, 'utf8@example.test');
    const caps = await c.command('c CAPABILITY');
    assert.match(caps[0]!, / UTF8=ACCEPT( |$)/);
    assert.deepEqual(await c.command('e ENABLE UTF8=ACCEPT'), [
      '* ENABLED UTF8=ACCEPT',
      'e OK ENABLE completed',
    ]);
    assert.equal(tagged(await c.command('c1 CREATE "Grüße"')), 'c1 OK CREATE completed');
    const list = await c.command('l LIST "" "Gr*"');
    assert.deepEqual(list.slice(0, -1), [wire('* LIST (\\HasNoChildren) "/" "Grüße"')]);
    c.close();
    // A session that did not enable it sees the same mailbox in modified UTF-7.
    const d = await TranscriptClient.login(fx.port, 'utf8@example.test');
    assert.deepEqual((await d.command('l LIST "" "Gr*"')).slice(0, -1), [
      '* LIST (\\HasNoChildren) "/" "Gr&APwA3w-e"',
    ]);
    d.close();
  });

  it('takes APPEND UTF8 (~{n}) with UTF-8 headers, only once enabled', async () => {
    const c = await TranscriptClient.login(fx.port, 'utf8-append@example.test');
    const message = 'From: Jörg <jörg@exämple.de>\r\nSubject: Grüße\r\n\r\nHallo\r\n';
    const n = Buffer.byteLength(message);
    c.write(`a1 APPEND INBOX UTF8 (~{${n}+}\r\n${message})\r\n`);
    assert.match(tagged(await c.until('a1')), /^a1 BAD .*UTF8=ACCEPT/);
    await c.command('e ENABLE UTF8=ACCEPT');
    c.write(`a2 APPEND INBOX (\\Seen) UTF8 (~{${n}+}\r\n${message})\r\n`);
    assert.match(tagged(await c.until('a2')), /^a2 OK \[APPENDUID \d+ 1\]/);
    await c.command('s SELECT INBOX');
    const env = await c.command('f FETCH 1 (ENVELOPE)');
    // UTF-8 goes out as a quoted string, not as a literal or an encoded word.
    assert.ok(env[0]!.includes(wire('"Grüße"')), env[0]);
    assert.ok(env[0]!.includes(wire('"Jörg" NIL "jörg" "exämple.de"')), env[0]);
    const bytes = await c.command('b FETCH 1 (BODY.PEEK[])');
    assert.ok(bytes.join('\r\n').includes(wire('Subject: Grüße')));
    c.close();
  });

  it('refuses SEARCH CHARSET after ENABLE UTF8=ACCEPT (the label would conflict) and searches UTF-8', async () => {
    const c = await TranscriptClient.login(fx.port, 'utf8-search@example.test');
    await append(c, 'Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n\r\nx\r\n');
    await c.command('e ENABLE UTF8=ACCEPT');
    await c.command('s SELECT INBOX');
    assert.match(tagged(await c.command('s1 SEARCH CHARSET UTF-8 SUBJECT x')), /^s1 BAD /);
    assert.deepEqual(await c.command('s2 SEARCH SUBJECT "grüße"'), ['* SEARCH 1', 's2 OK SEARCH completed']);
    c.close();
  });
});

describe('SEARCHRES (RFC 5182)', () => {
  it('saves a result as $ and uses it in FETCH, STORE, COPY, UID EXPUNGE and SEARCH', async () => {
    const c = await TranscriptClient.login(fx.port, 'searchres@example.test');
    for (const s of ['apple', 'pear', 'apple pie', 'plum']) await append(c, `Subject: ${s}\r\n\r\nbody\r\n`);
    await c.command('s SELECT INBOX');
    const caps = await c.command('c CAPABILITY');
    assert.match(caps[0]!, / SEARCHRES( |$)/);
    // SAVE alone: no ESEARCH, only the tagged OK.
    assert.deepEqual(await c.command('s1 SEARCH RETURN (SAVE) SUBJECT apple'), [
      's1 OK SEARCH completed, result saved',
    ]);
    assert.deepEqual(await c.command('f1 FETCH $ (UID)'), [
      '* 1 FETCH (UID 1)',
      '* 3 FETCH (UID 3)',
      'f1 OK FETCH completed',
    ]);
    assert.deepEqual(await c.command('f2 UID FETCH $ (UID)'), [
      '* 1 FETCH (UID 1)',
      '* 3 FETCH (UID 3)',
      'f2 OK FETCH completed',
    ]);
    assert.deepEqual(await c.command('s2 SEARCH $ NOT 1'), ['* SEARCH 3', 's2 OK SEARCH completed']);
    assert.deepEqual(await c.command('s3 UID SEARCH UID $'), ['* SEARCH 1 3', 's3 OK SEARCH completed']);
    assert.match(tagged(await c.command('c1 COPY $ Archive')), /^c1 OK \[COPYUID \d+ 1,3 1:2\]/);
    assert.deepEqual(await c.command('st STORE $ +FLAGS.SILENT (\\Deleted)'), ['st OK STORE completed']);
    assert.deepEqual(await c.command('x UID EXPUNGE $'), [
      '* 3 EXPUNGE',
      '* 1 EXPUNGE',
      'x OK EXPUNGE completed',
    ]);
    // The saved messages are gone: $ names nothing now.
    assert.deepEqual(await c.command('f3 FETCH $ (UID)'), ['f3 OK FETCH completed']);
    // With MIN alone only the minimum is kept (RFC 5182 2.4), and the ESEARCH answer still comes.
    assert.deepEqual(await c.command('s4 SEARCH RETURN (SAVE MIN) ALL'), [
      '* ESEARCH (TAG "s4") MIN 1',
      's4 OK SEARCH completed',
    ]);
    assert.deepEqual(await c.command('f4 FETCH $ (UID)'), ['* 1 FETCH (UID 2)', 'f4 OK FETCH completed']);
    // A SEARCH that fails empties $; a new SELECT does too.
    assert.match(tagged(await c.command('s5 SEARCH RETURN (SAVE) NOSUCHKEY')), /^s5 BAD /);
    assert.deepEqual(await c.command('f5 FETCH $ (UID)'), ['f5 OK FETCH completed']);
    await c.command('s6 SEARCH RETURN (SAVE) ALL');
    await c.command('sel SELECT INBOX');
    assert.deepEqual(await c.command('f6 FETCH $ (UID)'), ['f6 OK FETCH completed']);
    c.close();
  });
});

describe('QRESYNC with sequence match data (RFC 7162 3.2.5.2)', () => {
  it('accepts (known-sequence-set known-uid-set) and answers VANISHED (EARLIER) exactly', async () => {
    const c = await TranscriptClient.login(fx.port, 'seqmatch@example.test');
    for (let i = 1; i <= 6; i++) await append(c, `Subject: m${i}\r\n\r\nbody\r\n`);
    await c.command('e ENABLE QRESYNC');
    const sel = await c.command('s SELECT INBOX');
    const validity = /UIDVALIDITY (\d+)/.exec(sel.join('\n'))![1];
    const modseq = /HIGHESTMODSEQ (\d+)/.exec(sel.join('\n'))![1];
    await c.command('d UID STORE 2,5 +FLAGS.SILENT (\\Deleted)');
    await c.command('x EXPUNGE');
    await c.command('u UNSELECT');
    const again = await c.command(`s2 SELECT INBOX (QRESYNC (${validity} ${modseq} 1:6 (1,3,6 1,3,6)))`);
    assert.ok(again.includes('* VANISHED (EARLIER) 2,5'), again.join('\n'));
    assert.match(tagged(again), /^s2 OK \[READ-WRITE\]/);
    // Two sets of different sizes, or a "*" in them, are not sequence match data.
    await c.command('u2 UNSELECT');
    assert.match(
      tagged(await c.command(`s3 SELECT INBOX (QRESYNC (${validity} ${modseq} 1:6 (1:3 1,3)))`)),
      /^s3 BAD /,
    );
    assert.match(
      tagged(await c.command(`s4 SELECT INBOX (QRESYNC (${validity} ${modseq} 1:6 (1:* 1:4)))`)),
      /^s4 BAD /,
    );
    c.close();
  });
});

describe('header keys and header fields read the header alone', () => {
  it('SEARCH FROM and FETCH HEADER.FIELDS of a big message answer from its header', async () => {
    const c = await TranscriptClient.login(fx.port, 'headers@example.test');
    const body = `${'y'.repeat(998)}\r\n`.repeat(4096); // 4 MiB
    await append(c, `From: big@example.org\r\nSubject: big one\r\n\r\n${body}`);
    await append(c, 'From: small@example.org\r\nSubject: small\r\n\r\nbody\r\n');
    await c.command('s SELECT INBOX');
    assert.deepEqual(await c.command('s1 SEARCH FROM big'), ['* SEARCH 1', 's1 OK SEARCH completed']);
    assert.deepEqual(await c.command('s2 SEARCH HEADER Subject "small" NOT FROM big'), [
      '* SEARCH 2',
      's2 OK SEARCH completed',
    ]);
    const fields = await c.command('f FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    assert.deepEqual(fields, [
      '* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {20}\r\nSubject: big one\r\n\r\n)',
      'f OK FETCH completed',
    ]);
    assert.deepEqual(await c.command('f2 FETCH 1 (BODY.PEEK[HEADER]<0.8>)'), [
      '* 1 FETCH (BODY[HEADER]<0> "From: bi")',
      'f2 OK FETCH completed',
    ]);
    c.close();
  });
});
