// Message commands on the real engine: APPEND (MULTIAPPEND, LITERAL+, BINARY), FETCH items and
// sections, STORE, COPY/MOVE with COPYUID, EXPUNGE, SEARCH and ESEARCH.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startImapFixture, TranscriptClient, type ImapFixture } from '../testing/imap-fixture.ts';

let fx: ImapFixture;
before(async () => (fx = await startImapFixture({ maxMessageBytes: 100_000 })));
after(async () => fx?.stop());

const tagged = (lines: string[]) => lines.at(-1)!;
const crlf = (...lines: string[]) => lines.join('\r\n');

const multipart = crlf(
  'From: Ann <ann@example.org>',
  'To: bob@example.net',
  'Subject: Report',
  'Date: Tue, 1 Dec 2026 10:00:00 +0000',
  'Message-ID: <r1@example.org>',
  'Content-Type: multipart/mixed; boundary=b1',
  '',
  '--b1',
  'Content-Type: text/plain',
  '',
  'numbers inside',
  '--b1',
  'Content-Type: application/octet-stream',
  'Content-Transfer-Encoding: base64',
  '',
  'AAECAw==',
  '--b1--',
  '',
);

async function appendTo(c: TranscriptClient, mailbox: string, message: string, extra = ''): Promise<string> {
  c.write(`ap APPEND ${mailbox} ${extra}{${Buffer.byteLength(message)}+}\r\n${message}\r\n`);
  return tagged(await c.until('ap'));
}

describe('IMAP messages', () => {
  it('appends with flags and date, MULTIAPPEND all at once, and refuses over APPENDLIMIT before the bytes', async () => {
    const c = await TranscriptClient.login(fx.port, 'append@example.test');
    assert.match(
      await appendTo(c, 'INBOX', multipart, '(\\Seen $Work) "01-Dec-2026 10:00:00 +0100" '),
      /^ap OK \[APPENDUID (\d+) 1\]/,
    );
    c.write('m APPEND INBOX {5+}\r\nA: 1\n (\\Draft) {5+}\r\nB: 2\n\r\n');
    assert.match(tagged(await c.until('m')), /^m OK \[APPENDUID \d+ 2:3\]/);
    c.write('big APPEND INBOX {100001}\r\n');
    assert.equal(await c.readLine(), 'big NO [TOOBIG] Message over the limit of 100000 bytes');
    assert.match(await appendTo(c, 'Missing', 'X: y\r\n\r\n'), /^ap NO \[TRYCREATE\]/);
    const fetched = await c.command('f EXAMINE INBOX');
    assert.ok(fetched.includes('* 3 EXISTS'));
    const [dates] = await c.command('g FETCH 1 (INTERNALDATE FLAGS)');
    assert.equal(dates, '* 1 FETCH (INTERNALDATE "01-Dec-2026 09:00:00 +0000" FLAGS (\\Seen $Work))'); // EXAMINE claims no \\Recent
    c.close();
  });

  it('fetches ENVELOPE, BODYSTRUCTURE, sections, partials, HEADER.FIELDS and BINARY', async () => {
    const c = await TranscriptClient.login(fx.port, 'fetch@example.test');
    await appendTo(c, 'INBOX', multipart);
    await c.command('s SELECT INBOX');
    const [env] = await c.command('a FETCH 1 (ENVELOPE)');
    assert.equal(
      env,
      '* 1 FETCH (ENVELOPE ("Tue, 1 Dec 2026 10:00:00 +0000" "Report" (("Ann" NIL "ann" "example.org")) (("Ann" NIL "ann" "example.org")) (("Ann" NIL "ann" "example.org")) ((NIL NIL "bob" "example.net")) NIL NIL NIL "<r1@example.org>"))',
    );
    const [bs] = await c.command('b FETCH 1 BODYSTRUCTURE');
    assert.equal(
      bs,
      '* 1 FETCH (BODYSTRUCTURE (("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 14 0 NIL NIL NIL NIL)("application" "octet-stream" NIL NIL NIL "base64" 8 NIL NIL NIL NIL) "mixed" ("boundary" "b1") NIL NIL NIL))',
    );
    assert.deepEqual(
      await c.command('c FETCH 1 (BODY.PEEK[1] BODY.PEEK[HEADER.FIELDS (Subject)] BODY.PEEK[1]<2.5>)'),
      [
        '* 1 FETCH (BODY[1] "numbers inside" BODY[HEADER.FIELDS (SUBJECT)] {19}\r\nSubject: Report\r\n\r\n BODY[1]<2> "mbers")',
        'c OK FETCH completed',
      ],
    );
    assert.deepEqual(await c.command('d FETCH 1 (BINARY.PEEK[2] BINARY.SIZE[2] BINARY.PEEK[1])'), [
      '* 1 FETCH (BINARY[2] ~{4}\r\n\x00\x01\x02\x03 BINARY.SIZE[2] 4 BINARY[1] "numbers inside")',
      'd OK FETCH completed',
    ]);
    assert.deepEqual(await c.command('e FETCH 1 (FLAGS)'), [
      '* 1 FETCH (FLAGS (\\Recent))',
      'e OK FETCH completed',
    ]);
    // A body fetch without PEEK sets \Seen and says so (RFC 9051 6.4.5).
    assert.deepEqual(await c.command('f FETCH 1 (BODY[1.MIME])'), [
      '* 1 FETCH (BODY[1.MIME] {28}\r\nContent-Type: text/plain\r\n\r\n FLAGS (\\Seen \\Recent))',
      'f OK FETCH completed',
    ]);
    assert.deepEqual(await c.command('g UID FETCH 1 (RFC822.SIZE BODY.PEEK[3] BODY.PEEK[TEXT]<0.6>)'), [
      `* 1 FETCH (UID 1 RFC822.SIZE ${Buffer.byteLength(multipart)} BODY[3] "" BODY[TEXT]<0> "--b1\r\n")`.replace(
        '"--b1\r\n"',
        '{6}\r\n--b1\r\n',
      ),
      'g OK FETCH completed',
    ]);
    for (const [i, bad] of [
      'FETCH 1 (BODY[0])',
      'FETCH 1 (BINARY[HEADER])',
      'FETCH 1 (FROB)',
      'FETCH 1 BODY[1]<x>',
      'FETCH 0 FLAGS',
      'FETCH 1 (BODY[HEADER.FIELDS])',
    ].entries()) {
      assert.match(tagged(await c.command(`h${i} ${bad}`)), new RegExp(`^h${i} BAD`), bad);
    }
    c.close();
  });

  it('stores flags with replies, .SILENT, UNCHANGEDSINCE and MODIFIED (RFC 7162 3.1.3)', async () => {
    const c = await TranscriptClient.login(fx.port, 'store@example.test');
    await appendTo(c, 'INBOX', 'Subject: 1\r\n\r\nx');
    await appendTo(c, 'INBOX', 'Subject: 2\r\n\r\ny');
    await c.command('s SELECT INBOX (CONDSTORE)');
    const [first] = await c.command('a STORE 1 +FLAGS (\\Flagged $Label)');
    const modseq = Number(/MODSEQ \((\d+)\)/.exec(first!)![1]);
    assert.equal(first, `* 1 FETCH (UID 1 FLAGS (\\Flagged $Label \\Recent) MODSEQ (${modseq}))`);
    assert.deepEqual(await c.command('b STORE 1:2 -FLAGS.SILENT (\\Flagged)'), ['b OK STORE completed']);
    const conditional = await c.command(`c STORE 1,2 (UNCHANGEDSINCE ${modseq}) +FLAGS (\\Answered)`);
    assert.equal(tagged(conditional), 'c OK [MODIFIED 1] Conditional STORE failed for some messages');
    assert.match(conditional[0]!, /^\* 2 FETCH \(UID 2 FLAGS \(\\Answered \\Recent\) MODSEQ \(\d+\)\)$/);
    assert.match(tagged(await c.command('d STORE 1 FLAGS (\\Recent-ish)')), /^d NO \[CANNOT\]/);
    assert.match(tagged(await c.command('e STORE 1 BODY (x)')), /^e BAD/);
    await c.command('f EXAMINE INBOX');
    assert.match(tagged(await c.command('g STORE 1 +FLAGS (\\Seen)')), /^g NO \[READ-ONLY\]/);
    c.close();
  });

  it('copies and moves with COPYUID, and expunges by UID only what is \\Deleted', async () => {
    const c = await TranscriptClient.login(fx.port, 'move@example.test');
    for (const n of [1, 2, 3, 4]) await appendTo(c, 'INBOX', `Subject: m${n}\r\n\r\nbody ${n}`);
    await c.command('s SELECT INBOX');
    const copied = tagged(await c.command('a COPY 1:2 Archive'));
    assert.match(copied, /^a OK \[COPYUID \d+ 1:2 1:2\] COPY completed$/);
    assert.match(tagged(await c.command('b COPY 1 Nowhere')), /^b NO \[TRYCREATE\]/);
    const moved = await c.command('c UID MOVE 2:3 Trash');
    assert.match(moved[0]!, /^\* OK \[COPYUID \d+ 2:3 1:2\] Moved$/);
    assert.deepEqual(moved.slice(1), ['* 3 EXPUNGE', '* 2 EXPUNGE', 'c OK MOVE completed']);
    await c.command('d STORE 1:2 +FLAGS.SILENT (\\Deleted)');
    assert.deepEqual(await c.command('e UID EXPUNGE 4'), ['* 2 EXPUNGE', 'e OK EXPUNGE completed']);
    assert.deepEqual(await c.command('f FETCH 1:* UID'), ['* 1 FETCH (UID 1)', 'f OK FETCH completed']);
    assert.deepEqual(await c.command('g CLOSE'), ['g OK CLOSE completed']);
    assert.match((await c.command('h STATUS INBOX (MESSAGES)'))[0]!, /MESSAGES 0/);
    c.close();
  });

  it('searches with every kind of key and answers ESEARCH for RETURN', async () => {
    const c = await TranscriptClient.login(fx.port, 'search@example.test');
    await appendTo(c, 'INBOX', multipart, '(\\Seen) ');
    await appendTo(
      c,
      'INBOX',
      'From: zed@example.com\r\nSubject: =?utf-8?q?K=C3=A4se?=\r\n\r\nplain words\r\n',
      '(\\Flagged) ',
    );
    await appendTo(c, 'INBOX', 'Subject: third\r\n\r\nnumbers again\r\n');
    await c.command('s SELECT INBOX');
    const search = async (keys: string) => (await c.command(`q SEARCH ${keys}`))[0];
    assert.equal(await search('ALL'), '* SEARCH 1 2 3');
    assert.equal(await search('UNSEEN'), '* SEARCH 2 3');
    assert.equal(await search('CHARSET UTF-8 SUBJECT "käse"'), '* SEARCH 2');
    assert.equal(await search('BODY numbers'), '* SEARCH 1 3');
    assert.equal(await search('OR FLAGGED FROM ann'), '* SEARCH 1 2');
    assert.equal(await search('NOT (OR SEEN FLAGGED)'), '* SEARCH 3');
    assert.equal(await search('2:* LARGER 40 SENTON 1-Dec-2026'), '* SEARCH');
    assert.equal(await search('HEADER Message-ID r1'), '* SEARCH 1');
    assert.equal(await search('UID 2:*'), '* SEARCH 2 3');
    assert.deepEqual(await c.command('r UID SEARCH RETURN (MIN MAX COUNT ALL) BODY numbers'), [
      '* ESEARCH (TAG "r") UID MIN 1 MAX 3 ALL 1,3 COUNT 2',
      'r OK SEARCH completed',
    ]);
    assert.deepEqual(await c.command('t SEARCH RETURN () FLAGGED'), [
      '* ESEARCH (TAG "t") ALL 2',
      't OK SEARCH completed',
    ]);
    assert.deepEqual(await c.command('u SEARCH RETURN (COUNT) DELETED'), [
      '* ESEARCH (TAG "u") COUNT 0',
      'u OK SEARCH completed',
    ]);
    assert.match((await c.command('v SEARCH MODSEQ 1'))[0]!, /^\* SEARCH 1 2 3 \(MODSEQ \d+\)$/);
    assert.equal(
      tagged(await c.command('w SEARCH CHARSET KOI8-R ALL')),
      'w NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset',
    );
    assert.match(tagged(await c.command('x SEARCH FROB')), /^x BAD SEARCH: Unknown search key FROB/);
    assert.match(tagged(await c.command('y SEARCH RETURN (PARTIAL) ALL')), /^y BAD/);
    c.close();
  });

  it('sorts and threads the messages a search chose (SORT, THREAD REFERENCES and ORDEREDSUBJECT)', async () => {
    const c = await TranscriptClient.login(fx.port, 'thread@example.test');
    const add = (headers: string) => appendTo(c, 'INBOX', `${headers}\r\n\r\nbody\r\n`);
    await add('Subject: zebra\r\nFrom: b@x\r\nMessage-ID: <z@x>\r\nDate: Tue, 1 Dec 2026 10:00:00 +0000');
    await add(
      'Subject: Re: zebra\r\nFrom: a@x\r\nMessage-ID: <z2@x>\r\nReferences: <z@x>\r\nDate: Tue, 1 Dec 2026 11:00:00 +0000',
    );
    await add('Subject: apple\r\nFrom: c@x\r\nMessage-ID: <a@x>\r\nDate: Tue, 1 Dec 2026 09:00:00 +0000');
    await c.command('s SELECT INBOX');
    assert.deepEqual(await c.command('a SORT (SUBJECT) UTF-8 ALL'), ['* SORT 3 1 2', 'a OK SORT completed']);
    assert.deepEqual(await c.command('b UID SORT (REVERSE DATE) UTF-8 NOT FROM c'), [
      '* SORT 2 1',
      'b OK SORT completed',
    ]);
    assert.deepEqual(await c.command('c SORT (FROM) US-ASCII ALL'), ['* SORT 2 1 3', 'c OK SORT completed']);
    assert.deepEqual(await c.command('d THREAD REFERENCES UTF-8 ALL'), [
      '* THREAD (3)(1 2)',
      'd OK THREAD completed',
    ]);
    assert.deepEqual(await c.command('e UID THREAD ORDEREDSUBJECT UTF-8 ALL'), [
      '* THREAD (3)(1 2)',
      'e OK THREAD completed',
    ]);
    assert.match(tagged(await c.command('f SORT (BOGUS) UTF-8 ALL')), /^f BAD/);
    assert.match(tagged(await c.command('g THREAD BOGUS UTF-8 ALL')), /^g BAD/);
    assert.match(tagged(await c.command('h SORT (DATE) KOI8-R ALL')), /^h NO \[BADCHARSET/);
    assert.match((await c.command('i CAPABILITY'))[0]!, / SORT .*THREAD=REFERENCES/);
    c.close();
  });
  it('searches a header again after the mailbox was deleted and made anew: the kept values are not the old ones', async () => {
    const c = await TranscriptClient.login(fx.port, 'research@example.test');
    assert.match(tagged(await c.command('a CREATE Jottings')), /^a OK/);
    assert.match(await appendTo(c, 'Jottings', 'Subject: apples\r\n\r\nbody\r\n'), /^ap OK/);
    await c.command('b SELECT Jottings');
    assert.deepEqual(await c.command('c UID SEARCH SUBJECT apples'), ['* SEARCH 1', 'c OK SEARCH completed']);
    await c.command('d UNSELECT');
    assert.match(tagged(await c.command('e DELETE Jottings')), /^e OK/);
    assert.match(tagged(await c.command('f CREATE Jottings')), /^f OK/);
    assert.match(
      await appendTo(c, 'Jottings', 'Subject: pears\r\n\r\nbody\r\n'),
      /^ap OK \[APPENDUID \d+ 1\]/,
    );
    await c.command('g SELECT Jottings');
    assert.deepEqual(await c.command('h UID SEARCH SUBJECT apples'), ['* SEARCH', 'h OK SEARCH completed']);
    assert.deepEqual(await c.command('i UID SEARCH SUBJECT pears'), ['* SEARCH 1', 'i OK SEARCH completed']);
    c.close();
  });
});
