// Real IMAP clients none of us wrote, against the store's IMAP server on the real engine: curl,
// Python's imaplib, ImapFlow and mbsync (a two-way sync, then one that must transfer nothing).
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImapFlow } from 'imapflow';
import { run } from '../../../../testing/support/processes.ts';
import { makeTempDir } from '../../../../testing/support/temp-dir.ts';
import {
  curlLogin,
  PROXY_IDENTITY,
  PROXY_SECRET,
  startImapFixture,
  TranscriptClient,
  type ImapFixture,
} from '../testing/imap-fixture.ts';

let fx: ImapFixture;
const temp = makeTempDir('imap-clients');
before(async () => (fx = await startImapFixture()));
after(async () => {
  await fx?.stop();
  temp.remove();
});

const message = (subject: string, body: string) =>
  `From: Ann <ann@example.org>\r\nTo: bob@example.net\r\nSubject: ${subject}\r\nDate: Tue, 1 Dec 2026 10:00:00 +0000\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.org>\r\n\r\n${body}\r\n`;

describe('IMAP with real clients', () => {
  it('curl appends a message, lists, searches and fetches it back byte for byte (SASL PLAIN with authzid)', async () => {
    const user = 'curl@example.test';
    const file = join(temp.path, 'curl.eml');
    const sent = message('From curl', 'Line one\r\nLine two');
    writeFileSync(file, sent);
    const base = `imap://127.0.0.1:${fx.port}`;
    const auth = curlLogin(user);
    const upload = await run('curl', ['-sS', ...auth, '-T', file, `${base}/INBOX`]);
    assert.equal(upload.code, 0, upload.stderr);
    const listing = await run('curl', ['-sS', ...auth, `${base}/`]);
    assert.match(listing.stdout, /\* LIST \(\\HasNoChildren\) "\/" "?INBOX"?/);
    const found = await run('curl', ['-sS', ...auth, `${base}/INBOX?SUBJECT%20curl`]);
    assert.match(found.stdout, /^\* SEARCH 1\r?$/m);
    const fetched = await run('curl', ['-sS', ...auth, `${base}/INBOX;UID=1`]);
    assert.equal(fetched.code, 0, fetched.stderr);
    assert.equal(fetched.stdout, sent);
    const refused = await run('curl', ['-sS', ...curlLogin(user, 'wrong'), `${base}/`]);
    assert.notEqual(refused.code, 0);
  });

  it("Python's imaplib logs in as the proxy, appends, searches, stores, copies and expunges", async () => {
    const script = `
import imaplib, json, sys
port, identity, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3]
m = imaplib.IMAP4('127.0.0.1', port)
out = {}
m.authenticate('PLAIN', lambda _: ('py@example.test\\0%s\\0%s' % (identity, secret)).encode())
out['caps'] = 'AUTH=PLAIN' in m.capabilities and 'IDLE' in m.capability()[1][0].decode()
out['append'] = m.append('INBOX', '(\\\\Flagged)', None, b'Subject: from python\\r\\n\\r\\nhello python\\r\\n')[0]
typ, data = m.select('INBOX')
out['exists'] = int(data[0])
out['search'] = m.search(None, 'TEXT', 'python')[1][0].decode()
out['uid_search'] = m.uid('SEARCH', None, 'FLAGGED')[1][0].decode()
typ, data = m.fetch('1', '(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)] RFC822.SIZE)')
out['fetch'] = [x.decode() if isinstance(x, bytes) else [y.decode() for y in x] for x in data]
out['store'] = m.store('1', '+FLAGS', '\\\\Seen')[1][0].decode()
out['copy'] = m.copy('1', 'Archive')[0]
m.store('1', '+FLAGS', '\\\\Deleted')
out['expunge'] = [x.decode() for x in m.expunge()[1]]
out['status'] = m.status('Archive', '(MESSAGES)')[1][0].decode()
m.create('Python/Sub')
out['list'] = [x.decode() for x in m.list('Python')[1]]
m.logout()
print(json.dumps(out))
`;
    const result = await run('python3', ['-c', script, String(fx.port), PROXY_IDENTITY, PROXY_SECRET]);
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout) as Record<string, unknown>;
    assert.equal(out.caps, true);
    assert.equal(out.append, 'OK');
    assert.equal(out.exists, 1);
    assert.equal(out.search, '1');
    assert.equal(out.uid_search, '1');
    assert.deepEqual(out.fetch, [
      ['1 (FLAGS (\\Flagged \\Recent) BODY[HEADER.FIELDS (SUBJECT)] {24}', 'Subject: from python\r\n\r\n'],
      ` RFC822.SIZE ${'Subject: from python\r\n\r\nhello python\r\n'.length})`,
    ]);
    assert.equal(out.store, '1 (FLAGS (\\Seen \\Flagged \\Recent))');
    assert.equal(out.copy, 'OK');
    assert.deepEqual(out.expunge, ['1']);
    assert.equal(out.status, '"Archive" (MESSAGES 1)');
    assert.deepEqual(out.list, ['(\\HasChildren) "/" "Python"', '(\\HasNoChildren) "/" "Python/Sub"']);
  });

  it('ImapFlow: lists, appends, fetches sources and structures, moves, and hears another session during IDLE', async () => {
    const user = 'flow@example.test';
    const client = new ImapFlow({
      host: '127.0.0.1',
      port: fx.port,
      secure: false,
      auth: { user: PROXY_IDENTITY, pass: PROXY_SECRET, authzid: user, loginMethod: 'AUTH=PLAIN' },
      logger: false,
    });
    await client.connect();
    const folders = await client.list();
    assert.deepEqual(folders.map((f) => `${f.path}${f.specialUse ? ` ${f.specialUse}` : ''}`).sort(), [
      'Archive \\Archive',
      'Drafts \\Drafts',
      'INBOX \\Inbox',
      'Junk \\Junk',
      'Sent \\Sent',
      'Trash \\Trash',
    ]);
    const sent = message('ImapFlow test', 'body from imapflow');
    const appended = await client.append('INBOX', sent, ['\\Seen']);
    assert.ok(appended && appended.uid === 1);
    const lock = await client.getMailboxLock('INBOX');
    try {
      const fetched = await client.fetchOne('1', {
        source: true,
        envelope: true,
        bodyStructure: true,
        flags: true,
        uid: true,
      });
      assert.ok(fetched);
      assert.equal(fetched.source?.toString(), sent);
      assert.equal(fetched.envelope?.subject, 'ImapFlow test');
      assert.equal(fetched.bodyStructure?.type, 'text/plain');
      assert.ok(fetched.flags?.has('\\Seen'));
      const found = await client.search({ subject: 'imapflow' }, { uid: true });
      assert.deepEqual(found, [1]);

      // Another session delivers while this one idles: ImapFlow hears EXISTS.
      const heard = new Promise<number>((resolve) =>
        client.on('exists', (data: { count: number }) => resolve(data.count)),
      );
      const idle = client.idle();
      const other = await TranscriptClient.login(fx.port, user);
      const second = message('second', 'pushed');
      other.write(`o1 APPEND INBOX {${second.length}+}\r\n${second}\r\n`);
      await other.until('o1');
      other.close();
      assert.equal(await heard, 2);
      void idle;
      const moved = await client.messageMove('1', 'Archive', { uid: true });
      assert.ok(moved && moved.uidMap?.get(1) === 1);
      assert.equal(client.mailbox && client.mailbox.exists, 1);
    } finally {
      lock.release();
    }
    const status = await client.status('Archive', { messages: true, uidNext: true });
    assert.ok(status && status.messages === 1);
    await client.logout();
  });

  it('mbsync syncs both ways, and a second sync transfers nothing', async () => {
    const user = 'sync@example.test';
    const seed = await TranscriptClient.login(fx.port, user);
    for (const n of [1, 2, 3]) {
      const m = message(`server ${n}`, `on the server ${n}`);
      seed.write(`s${n} APPEND INBOX ${n === 2 ? '(\\Seen) ' : ''}{${m.length}+}\r\n${m}\r\n`);
      await seed.until(`s${n}`);
    }
    const local = join(temp.path, 'maildir');
    mkdirSync(join(local, 'INBOX', 'cur'), { recursive: true });
    mkdirSync(join(local, 'INBOX', 'new'), { recursive: true });
    mkdirSync(join(local, 'INBOX', 'tmp'), { recursive: true });
    writeFileSync(
      join(local, 'INBOX', 'new', '1700000000.local1.host'),
      message('local one', 'written locally'),
    );
    const config = join(temp.path, 'mbsyncrc');
    writeFileSync(
      config,
      [
        'IMAPAccount store',
        'Host 127.0.0.1',
        `Port ${fx.port}`,
        `User ${user}*${PROXY_IDENTITY}`,
        `Pass ${PROXY_SECRET}`,
        'SSLType None',
        'AuthMechs LOGIN',
        '',
        'IMAPStore remote',
        'Account store',
        '',
        'MaildirStore local',
        `Path ${local}/`,
        `Inbox ${local}/INBOX`,
        'SubFolders Verbatim',
        '',
        'Channel inbox',
        'Far :remote:INBOX',
        'Near :local:INBOX',
        'Sync All',
        'Create Both',
        'Expunge Both',
        `SyncState ${temp.path}/state-`,
        '',
      ].join('\n'),
    );
    const first = await run('mbsync', ['-c', config, 'inbox'], { timeoutMs: 60_000 });
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const files = () =>
      ['cur', 'new'].flatMap((d) =>
        readdirSync(join(local, 'INBOX', d)).map((f) => join(local, 'INBOX', d, f)),
      );
    assert.equal(files().length, 4, 'three messages pulled next to the local one');
    const status = await seed.command('st STATUS INBOX (MESSAGES)');
    assert.match(status[0]!, /MESSAGES 4/, 'the local message pushed to the server');
    const pulled = files()
      .map((f) => readFileSync(f, 'utf8'))
      .find((text) => text.includes('Subject: server 1'));
    // mbsync writes its Maildir with LF line ends and adds its X-TUID header; the rest is ours.
    assert.equal(
      pulled?.replace(/^X-TUID: .*\n/m, ''),
      message('server 1', 'on the server 1').replace(/\r\n/g, '\n'),
    );

    // The second sync moves nothing: the server's counters and the local file names (which carry
    // mbsync's flags) are what they were.
    const serverState = async () =>
      (await seed.command('st2 STATUS INBOX (MESSAGES UIDNEXT HIGHESTMODSEQ)'))[0];
    const before = { server: await serverState(), local: files().sort() };
    const second = await run('mbsync', ['-c', config, 'inbox'], { timeoutMs: 60_000 });
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.deepEqual({ server: await serverState(), local: files().sort() }, before);
    assert.equal(files().length, 4);
    seed.close();
  });

  it("delivers over LMTP (Python's smtplib.LMTP) and reads back byte for byte over IMAP (imaplib and curl)", async () => {
    const lmtp = await fx.lmtpPort();
    const script = `
import imaplib, smtplib, sys, hashlib
lmtp_port, imap_port, identity, secret = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
body = ('From: Ann <ann@example.org>\\r\\nTo: lmtp@example.test\\r\\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\\r\\n'
        'MIME-Version: 1.0\\r\\nContent-Type: text/plain; charset=utf-8\\r\\nContent-Transfer-Encoding: 8bit\\r\\n\\r\\n'
        '.a line that starts with a dot\\r\\n..two dots\\r\\nGrüße, 8-bit\\r\\n\\tand a tab\\r\\n').encode('utf-8')
l = smtplib.LMTP('127.0.0.1', lmtp_port)
refused = l.sendmail('ann@example.org', ['lmtp@example.test'], body)
l.quit()
m = imaplib.IMAP4('127.0.0.1', imap_port)
m.authenticate('PLAIN', lambda _: ('lmtp@example.test\\0%s\\0%s' % (identity, secret)).encode())
m.select('INBOX')
typ, data = m.fetch('1', '(RFC822.SIZE BODY.PEEK[])')
fetched = data[0][1]
print('|'.join([str(len(refused)), str(fetched == body), str(len(body)), data[0][0].decode()]))
sys.stdout.flush()
open(sys.argv[5], 'wb').write(body)
`;
    const sentFile = join(temp.path, 'lmtp-sent.eml');
    const result = await run('python3', [
      '-c',
      script,
      String(lmtp),
      String(fx.port),
      PROXY_IDENTITY,
      PROXY_SECRET,
      sentFile,
    ]);
    assert.equal(result.code, 0, result.stderr);
    const [refused, identical, size, fetchLine] = result.stdout.trim().split('|');
    assert.equal(refused, '0');
    assert.equal(identical, 'True', result.stdout);
    assert.equal(fetchLine, `1 (RFC822.SIZE ${size} BODY[] {${size}}`);
    const curl = await run('curl', [
      '-sS',
      ...curlLogin('lmtp@example.test'),
      `imap://127.0.0.1:${fx.port}/INBOX;UID=1`,
    ]);
    assert.equal(curl.code, 0, curl.stderr);
    assert.equal(curl.stdout, readFileSync(sentFile, 'utf8'));
  });
});
