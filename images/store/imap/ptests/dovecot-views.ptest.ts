// The message views against Dovecot 2.3's: the same messages appended to both, the same FETCH
// items asked of both, the answers compared. Dovecot is the reference clients were tested against.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDovecot, type Dovecot } from '../../../../testing/peers/dovecot.ts';
import { run } from '../../../../testing/support/processes.ts';
import { makeTempDir } from '../../../../testing/support/temp-dir.ts';
import { PROXY_IDENTITY, PROXY_SECRET, startImapFixture, type ImapFixture } from '../testing/imap-fixture.ts';

const temp = makeTempDir('dovecot-views');
let fx: ImapFixture;
let dovecot: Dovecot;
before(async () => {
  fx = await startImapFixture();
  dovecot = await startDovecot(join(temp.path, 'dovecot'), { anyUser: { password: 'pw' } });
});
after(async () => {
  await fx?.stop();
  await dovecot?.stop();
  temp.remove();
});

const crlf = (...lines: string[]) => lines.join('\r\n');

// Shapes clients meet: plain, alternative, nested with an attached message, RFC 2231 names,
// groups and encoded words, no Content-Type at all, digest, folded fields, extension fields.
const CORPUS = [
  crlf('From: plain@example.org', 'Subject: plain', '', 'just text', ''),
  crlf('Subject: no headers of note', '', 'x'),
  crlf(
    'From: "Doe, Jane" <jane@example.org>, =?utf-8?q?J=C3=B6rg?= <joerg@example.de>',
    'To: team: a@x.org, b@x.org;, undisclosed-recipients:;',
    'Cc: <bare@example.net>',
    'Reply-To: reply@example.org',
    'Subject: =?utf-8?b?R3LDvMOfZQ==?=',
    ' folded',
    'Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)',
    'Message-ID: <m1@example.org>',
    'In-Reply-To: <parent@example.org>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/alternative; boundary="alt"',
    '',
    '--alt',
    'Content-Type: text/plain; charset=UTF-8; format=flowed',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Gr=C3=BC=C3=9Fe',
    '--alt',
    'Content-Type: text/html; charset="utf-8"',
    'Content-Language: de, en',
    'Content-Location: http://example.org/x',
    '',
    '<p>Grüße</p>',
    '--alt--',
    '',
  ),
  crlf(
    'From: a@example.org',
    'Subject: nested',
    'Content-Type: multipart/mixed; boundary=outer',
    '',
    'preamble',
    '--outer',
    'Content-Type: multipart/related; boundary=inner; type="text/html"',
    '',
    '--inner',
    'Content-Type: text/html',
    'Content-ID: <part1@x>',
    'Content-Description: the page',
    '',
    '<img src=cid:img>',
    '--inner',
    'Content-Type: image/png; name="a.png"',
    'Content-Transfer-Encoding: base64',
    'Content-Disposition: inline; filename="a.png"',
    'Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==',
    '',
    'iVBORw0KGgo=',
    '--inner--',
    '--outer',
    'Content-Type: message/rfc822',
    'Content-Disposition: attachment',
    '',
    'From: inner@example.org',
    'Subject: inner',
    'Content-Type: multipart/mixed; boundary=deep',
    '',
    '--deep',
    '',
    'implicit text/plain',
    '--deep',
    "Content-Type: application/pdf; name*=utf-8''r%C3%A9sum%C3%A9.pdf",
    'Content-Transfer-Encoding: base64',
    '',
    'JVBERi0=',
    '--deep--',
    '--outer',
    'Content-Type: application/octet-stream',
    'Content-Disposition: attachment; filename*0="long"; filename*1="name.bin"',
    '',
    'raw',
    '--outer--',
    'epilogue',
    '',
  ),
  crlf(
    'Subject: digest',
    'Content-Type: multipart/digest; boundary=d',
    '',
    '--d',
    '',
    'Subject: one',
    '',
    'first',
    '--d',
    '',
    'Subject: two',
    '',
    'second',
    '--d--',
    '',
  ),
];

const ITEMS = [
  'BODYSTRUCTURE',
  'BODY',
  'ENVELOPE',
  'RFC822.SIZE',
  'BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)]',
  'BODY.PEEK[HEADER.FIELDS.NOT (FROM SUBJECT)]',
  'BODY.PEEK[TEXT]<0.20>',
  'BODY.PEEK[1]',
  'BODY.PEEK[1.MIME]',
  'BODY.PEEK[2]',
  'BODY.PEEK[2.HEADER]',
  'BODY.PEEK[2.1]',
  'BODY.PEEK[3.TEXT]',
  'BODY.PEEK[3.1.2]',
  'BINARY.PEEK[1.1]',
  'BINARY.SIZE[1.1]',
  'BINARY.PEEK[1.2]',
  // BINARY of multipart parts: every leaf below decoded (RFC 3516)
  'BINARY.PEEK[]',
  'BINARY.PEEK[1]',
  'BINARY.SIZE[1]',
  'BINARY.PEEK[2]',
  'BINARY.PEEK[3.1]',
];

const SCRIPT = `
import imaplib, json, sys
port, user, password, path = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
items = sys.argv[5].split('|')
corpus = json.load(open(path))
m = imaplib.IMAP4('127.0.0.1', port)
m.login(user, password)
m.select('INBOX')
for message in corpus:
    m.append('INBOX', None, '"01-Dec-2026 10:00:00 +0000"', message.encode('utf-8'))
out = []
for n in range(1, len(corpus) + 1):
    answers = {}
    for item in items:
        typ, data = m.fetch(str(n), '(' + item + ')')
        parts = []
        for d in data:
            if isinstance(d, tuple):
                parts.append(d[0].decode('utf-8', 'replace') + d[1].decode('utf-8', 'replace'))
            elif d is not None:
                parts.append(d.decode('utf-8', 'replace'))
        answers[item] = typ + ' ' + ''.join(parts)
    out.append(answers)
m.logout()
print(json.dumps(out))
`;

async function answersFrom(port: number, user: string, password: string): Promise<Record<string, string>[]> {
  const corpusFile = join(temp.path, 'corpus.json');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(corpusFile, JSON.stringify(CORPUS));
  const result = await run(
    'python3',
    ['-c', SCRIPT, String(port), user, password, corpusFile, ITEMS.join('|')],
    { timeoutMs: 60_000 },
  );
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as Record<string, string>[];
}

/**
 * Framing may differ where IMAP leaves the choice: quoted string or literal, and literal8 for all of
 * BINARY (Dovecot) or only where NUL needs it (ours). The values must not.
 */
function normalize(answer: string): string {
  return answer
    .replace(/~?\{\d+\}/g, '')
    .replace(/"/g, '')
    .replace(/(BINARY\[[\d.]*\] )~/g, '$1');
}

describe('message views match Dovecot 2.3', () => {
  it('answers every item for every message as Dovecot does', async () => {
    const ours = await answersFrom(fx.port, `views@example.test*${PROXY_IDENTITY}`, PROXY_SECRET);
    const theirs = await answersFrom(dovecot.imapPort, 'views', 'pw');
    const differences: string[] = [];
    for (let i = 0; i < CORPUS.length; i++) {
      for (const item of ITEMS) {
        const a = normalize(ours[i]![item]!);
        const b = normalize(theirs[i]![item]!);
        if (a !== b)
          differences.push(
            `message ${i + 1} ${item}\n  ours:    ${JSON.stringify(a)}\n  dovecot: ${JSON.stringify(b)}`,
          );
      }
    }
    assert.deepEqual(differences, []);
  });
});
