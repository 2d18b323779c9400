import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeLine } from '../protocol/response.ts';
import { buildBodyStructure } from './body-structure.ts';
import { renderEnvelope } from './envelope.ts';
import { selectHeaderFields } from './header-fields.ts';
import { parseMimeTree } from './mime-tree.ts';
import { decodeTransferEncoding, findPart, locateSection } from './sections.ts';

const crlf = (lines: string[]) => Buffer.from(lines.join('\r\n'), 'utf8');

const nested = crlf([
  'From: "Doe, Jane" <jane@example.org>',
  'To: bob@example.net, team: a@x.org, b@x.org;',
  'Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=',
  'Date: Mon, 7 Feb 1994 21:52:25 -0800',
  'Message-ID: <1@example.org>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="outer"',
  '',
  'preamble',
  '--outer',
  'Content-Type: multipart/alternative; boundary=inner',
  '',
  '--inner',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Gr=C3=BC=C3=9Fe',
  'zwei',
  '--inner',
  'Content-Type: text/html',
  '',
  '<p>hi</p>',
  '--inner--',
  '',
  '--outer',
  'Content-Type: message/rfc822',
  'Content-Disposition: attachment; filename="fwd.eml"',
  '',
  'From: carol@example.com',
  'Subject: inner',
  '',
  'inner body',
  '--outer',
  'Content-Type: application/octet-stream; name=x.bin',
  'Content-Transfer-Encoding: base64',
  'Content-Disposition: attachment; filename=x.bin',
  '',
  'AAEC/w==',
  '--outer--',
  'epilogue',
  '',
]);

const section = async (message: Buffer, path: number[], text?: 'HEADER' | 'TEXT' | 'MIME') => {
  const tree = await parseMimeTree(message);
  const where = locateSection(tree.root, { path, ...(text ? { text } : {}) });
  assert.ok(where && where.kind === 'range');
  return message.subarray(where.start, where.end).toString('utf8');
};

describe('message views', () => {
  it('gives each part its own bytes, the CRLF before a delimiter left out (RFC 2046 5.1.1)', async () => {
    assert.equal(await section(nested, [1, 1]), 'Gr=C3=BC=C3=9Fe\r\nzwei');
    assert.equal(await section(nested, [1, 2]), '<p>hi</p>');
    assert.equal(
      await section(nested, [1]),
      '--inner\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC=C3=9Fe\r\nzwei\r\n--inner\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n--inner--\r\n',
    );
    assert.equal(await section(nested, [1, 2], 'MIME'), 'Content-Type: text/html\r\n\r\n');
    assert.equal(await section(nested, [3]), 'AAEC/w==');
  });

  it('numbers the parts of an embedded message within its part (RFC 9051 6.4.5)', async () => {
    assert.equal(await section(nested, [2]), 'From: carol@example.com\r\nSubject: inner\r\n\r\ninner body');
    assert.equal(await section(nested, [2], 'HEADER'), 'From: carol@example.com\r\nSubject: inner\r\n\r\n');
    assert.equal(await section(nested, [2], 'TEXT'), 'inner body');
    assert.equal(await section(nested, [2, 1]), 'inner body');
  });

  it('gives the whole message, its header and its text', async () => {
    assert.equal(await section(nested, []), nested.toString('utf8'));
    assert.ok((await section(nested, [], 'HEADER')).endsWith('boundary="outer"\r\n\r\n'));
    assert.ok((await section(nested, [], 'TEXT')).startsWith('preamble\r\n--outer'));
  });

  it('makes part 1 of a single-part message its body, and finds no part 2', async () => {
    const plain = crlf(['Subject: x', '', 'body', '']);
    assert.equal(await section(plain, [1]), 'body\r\n');
    const tree = await parseMimeTree(plain);
    assert.equal(findPart(tree.root, [2]), undefined);
  });

  it('writes BODYSTRUCTURE with envelope, lines (line ends, as Dovecot counts), dispositions and the multipart subtype', async () => {
    const tree = await parseMimeTree(nested);
    const text = encodeLine([buildBodyStructure(tree.root, true)]).toString('utf8');
    assert.equal(
      text,
      '(((' +
        '"text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 21 1 NIL NIL NIL NIL)(' +
        '"text" "html" ("charset" "us-ascii") NIL NIL "7bit" 9 0 NIL NIL NIL NIL) "alternative" ("boundary" "inner") NIL NIL NIL)(' +
        '"message" "rfc822" NIL NIL NIL "7bit" 53 ' +
        '(NIL "inner" ((NIL NIL "carol" "example.com")) ((NIL NIL "carol" "example.com")) ((NIL NIL "carol" "example.com")) NIL NIL NIL NIL NIL) ' +
        '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 10 0 NIL NIL NIL NIL) 3 NIL ("attachment" ("filename" "fwd.eml")) NIL NIL)(' +
        '"application" "octet-stream" ("name" "x.bin") NIL NIL "base64" 8 NIL ("attachment" ("filename" "x.bin")) NIL NIL) "mixed" ("boundary" "outer") NIL NIL NIL)\r\n',
    );
  });

  it('writes ENVELOPE with raw encoded words and address groups', async () => {
    const tree = await parseMimeTree(nested);
    const text = encodeLine([renderEnvelope(tree.root.envelope!)]).toString('utf8');
    assert.equal(
      text,
      '("Mon, 7 Feb 1994 21:52:25 -0800" "=?utf-8?q?Gr=C3=BC=C3=9Fe?=" (("Doe, Jane" NIL "jane" "example.org")) (("Doe, Jane" NIL "jane" "example.org")) (("Doe, Jane" NIL "jane" "example.org")) ' +
        '((NIL NIL "bob" "example.net")(NIL NIL "team" NIL)(NIL NIL "a" "x.org")(NIL NIL "b" "x.org")(NIL NIL NIL NIL)) NIL NIL NIL "<1@example.org>")\r\n',
    );
  });

  it('picks HEADER.FIELDS byte for byte, folded lines kept, and HEADER.FIELDS.NOT the rest', () => {
    const header = crlf(['Subject: a', ' folded', 'From: x@y', 'X-Other: 1', '', '']);
    assert.equal(
      selectHeaderFields(header, ['SUBJECT', 'x-other'], false).toString(),
      'Subject: a\r\n folded\r\nX-Other: 1\r\n\r\n',
    );
    assert.equal(selectHeaderFields(header, ['subject'], true).toString(), 'From: x@y\r\nX-Other: 1\r\n\r\n');
  });

  it('undoes base64 and quoted-printable for BINARY[]', async () => {
    const tree = await parseMimeTree(nested);
    const bin = findPart(tree.root, [3])!;
    assert.deepEqual(
      [...decodeTransferEncoding(bin, nested.subarray(bin.bodyStart, bin.end))],
      [0, 1, 2, 255],
    );
    const qp = findPart(tree.root, [1, 1])!;
    assert.equal(
      decodeTransferEncoding(qp, nested.subarray(qp.bodyStart, qp.end)).toString('utf8'),
      'Grüße\r\nzwei',
    );
  });
});
