import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MessageMeta } from '../../mailbox/api.ts';
import { imapLimits } from '../../limits.ts';
import { CommandReader } from '../../../lib/imap/command-reader.ts';
import { parseMimeTree } from '../message/mime-tree.ts';
import { matches, type SearchContent } from './evaluate-search.ts';
import { parseSearchKeys, SearchSyntaxError } from './search-key.ts';

function keys(text: string) {
  const reader = new CommandReader({ ...imapLimits, maxAppendLiteralBytes: 1e6, maxCommandBytes: 1e6 });
  reader.push(Buffer.from(`t SEARCH ${text}\r\n`));
  const event = reader.next();
  assert.ok(event?.kind === 'command', JSON.stringify(event));
  return parseSearchKeys(event.command.args);
}

const message = Buffer.from(
  [
    'From: =?iso-8859-1?q?J=FCrgen?= <juergen@example.org>',
    'To: team@example.net',
    'Subject: Quarterly report',
    'Date: Tue, 1 Dec 2026 23:30:00 -0800',
    'Content-Type: text/plain; charset=iso-8859-1',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Die Zahlen f=FCr Q4 sind gut.',
    '',
  ].join('\r\n'),
  'latin1',
);

const meta: MessageMeta = {
  uid: 7,
  flags: ['\\Seen', 'Important'],
  modseq: 42,
  internalDate: Date.UTC(2026, 11, 2, 8, 0, 0),
  size: message.length,
  recent: false,
};

function content(loads: string[]): SearchContent {
  return {
    header: () => (
      loads.push('header'),
      Promise.resolve(message.subarray(0, message.indexOf('\r\n\r\n') + 4))
    ),
    message: () => (loads.push('message'), Promise.resolve(message)),
    tree: () => parseMimeTree(message),
  };
}

async function search(text: string, loads: string[] = []) {
  return matches(keys(text), { seq: 3, meta }, content(loads), {
    largestSeq: 10,
    largestUid: 20,
    now: meta.internalDate + 3600_000,
  });
}

describe('SEARCH', () => {
  it('matches flags and keywords, case-insensitively', async () => {
    assert.equal(await search('SEEN KEYWORD important'), true);
    assert.equal(await search('UNSEEN'), false);
    assert.equal(await search('UNKEYWORD Important'), false);
    assert.equal(await search('NOT DELETED UNANSWERED'), true);
  });
  it('matches sequence numbers, UIDs and * as the largest', async () => {
    assert.equal(await search('1:3'), true);
    assert.equal(await search('UID 8:*'), false);
    assert.equal(await search('UID 5,7'), true);
  });
  it('matches sizes, MODSEQ, OLDER/YOUNGER', async () => {
    assert.equal(await search(`LARGER ${message.length - 1} SMALLER ${message.length + 1}`), true);
    assert.equal(await search('MODSEQ 42'), true);
    assert.equal(await search('MODSEQ "/flags/\\\\draft" all 43'), false);
    assert.equal(await search('YOUNGER 7200 OLDER 60'), true);
  });
  it('compares the internal date by UTC day and the Date: header by its own day', async () => {
    assert.equal(await search('ON 2-Dec-2026'), true);
    assert.equal(await search('SENTON 1-Dec-2026'), true);
    assert.equal(await search('SENTSINCE 2-Dec-2026'), false);
    assert.equal(await search('BEFORE 3-Dec-2026 SINCE 2-Dec-2026'), true);
  });
  it('matches decoded header text and decoded body text', async () => {
    assert.equal(await search('FROM jürgen'), true);
    assert.equal(await search('SUBJECT "QUARTERLY"'), true);
    assert.equal(await search('HEADER X-Missing ""'), false);
    assert.equal(await search('HEADER To ""'), true);
    assert.equal(await search('BODY "zahlen für"'), true);
    assert.equal(await search('TEXT example.net'), true);
    assert.equal(await search('BODY example.net'), false);
  });
  it('evaluates OR, NOT and nested lists', async () => {
    assert.equal(await search('OR DELETED (SEEN SUBJECT report)'), true);
    assert.equal(await search('NOT (OR SEEN DELETED)'), false);
  });
  it('loads no content when index keys decide', async () => {
    const loads: string[] = [];
    assert.equal(await search('DELETED SUBJECT report', loads), false);
    assert.deepEqual(loads, []);
  });
  it('refuses unknown keys and bad arguments', () => {
    for (const bad of ['FOO', 'LARGER x', 'ON 32-Foo-2026', 'UID x', '()', 'OR SEEN']) {
      assert.throws(() => keys(bad), SearchSyntaxError, bad);
    }
  });
});
