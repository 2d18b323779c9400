import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeMailboxName, encodeMailboxName } from './mailbox-name.ts';
import { atom, encodeLine, encodeStatus, literal8, raw } from './response.ts';
import {
  formatSequenceSet,
  parseSequenceSet,
  selectFromSorted,
  selectSequenceNumbers,
  sequenceNumbersWithin,
} from './sequence-set.ts';

const line = (...v: Parameters<typeof encodeLine>[0]) => encodeLine(v).toString('latin1');

describe('IMAP response encoder', () => {
  it('quotes plain strings and escapes quote and backslash', () => {
    assert.equal(line(atom('*'), 'a "b" \\c'), '* "a \\"b\\" \\\\c"\r\n');
  });
  it('sends strings with CR, LF, NUL or 8-bit as literals', () => {
    assert.equal(line('a\r\nb'), '{4}\r\na\r\nb\r\n');
    assert.equal(line('é'), '{2}\r\n\xc3\xa9\r\n');
    assert.equal(encodeLine(['é'], { utf8: true }).toString('utf8'), '"é"\r\n');
  });
  it('writes NIL, numbers, atoms, raw items, nested lists and literal8', () => {
    assert.equal(
      line(atom('*'), 3, atom('FETCH'), [
        raw('BODY[1]<0>'),
        null,
        [atom('\\Seen')],
        12n,
        literal8(Buffer.from('\0')),
      ]),
      '* 3 FETCH (BODY[1]<0> NIL (\\Seen) 12 ~{1}\r\n\0)\r\n',
    );
  });
  it('writes status responses with an optional code, on one line', () => {
    assert.equal(
      encodeStatus('a1', 'OK', 'done\r\nx', 'UIDNEXT 5').toString(),
      'a1 OK [UIDNEXT 5] done x\r\n',
    );
  });
});

describe('sequence sets', () => {
  it('parses ranges and *, refuses bad forms', () => {
    assert.deepEqual(parseSequenceSet('1:3,5,7:*'), [
      { start: 1, end: 3 },
      { start: 5, end: 5 },
      { start: 7, end: null },
    ]);
    for (const bad of ['', '0', '1:', ',1', '1:2:3', 'a', '4294967296', '01'])
      assert.equal(parseSequenceSet(bad), undefined, bad);
  });
  it('resolves * to the largest number, also in reversed ranges (RFC 9051 6.4.8)', () => {
    assert.deepEqual(selectFromSorted(parseSequenceSet('5000:*')!, [3, 10, 200]), [200]);
    assert.deepEqual(selectSequenceNumbers(parseSequenceSet('4:2,*')!, 9), [2, 3, 4, 9]);
    assert.equal(sequenceNumbersWithin(parseSequenceSet('1:10')!, 9), false);
  });
  it('packs numbers into runs', () => {
    assert.equal(formatSequenceSet([1, 2, 3, 5, 7, 8]), '1:3,5,7:8');
  });
});

describe('mailbox names in modified UTF-7 (RFC 3501 5.1.3)', () => {
  it('round-trips non-ASCII and &', () => {
    for (const [utf8, wire] of [
      ['Entwürfe', 'Entw&APw-rfe'],
      ['A&B', 'A&-B'],
      ['日本語', '&ZeVnLIqe-'],
      ['~peter/mail/台北/日本語', '~peter/mail/&U,BTFw-/&ZeVnLIqe-'],
    ]) {
      assert.equal(encodeMailboxName(utf8!), wire);
      assert.equal(decodeMailboxName(wire!), utf8);
    }
  });
  it('refuses a malformed run', () => {
    assert.equal(decodeMailboxName('&Jjo'), undefined);
  });
});
