import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DotDecoder, dotStuff } from './dot-data.ts';

/** Feeds `input` split at every possible point (and whole), expecting the same result each time. */
function decodeAll(input: string, chunkSize?: number) {
  const decoder = new DotDecoder();
  const bytes = Buffer.from(input, 'latin1');
  const data: Buffer[] = [];
  let rest = Buffer.alloc(0);
  let done = false;
  const size = chunkSize ?? bytes.length;
  for (let i = 0; i < bytes.length && !done; i += size) {
    const result = decoder.feed(bytes.subarray(i, Math.min(bytes.length, i + size)));
    data.push(...result.data);
    done = result.done;
    if (done) rest = Buffer.concat([result.rest, bytes.subarray(i + size)]);
  }
  return { message: Buffer.concat(data).toString('latin1'), done, rest: rest.toString('latin1') };
}

describe('DotDecoder', () => {
  for (const [name, input, message, done, rest] of [
    ['ends at CRLF.CRLF and keeps what follows', 'a\r\nb\r\n.\r\nQUIT\r\n', 'a\r\nb\r\n', true, 'QUIT\r\n'],
    ['an empty message is just the terminator', '.\r\n', '', true, ''],
    ['unstuffs a leading doubled dot', '..x\r\n...\r\n.\r\n', '.x\r\n..\r\n', true, ''],
    ['does not end at LF.LF', 'a\n.\nb\r\n.\r\n', 'a\r\n.\r\nb\r\n', true, ''],
    ['does not end at LF.CRLF', 'a\n.\r\nb\r\n.\r\n', 'a\r\n.\r\nb\r\n', true, ''],
    ['does not end at CRLF.LF', 'a\r\n.\nb\r\n.\r\n', 'a\r\n.\r\nb\r\n', true, ''],
    ['stores bare LF line ends as CRLF', 'a\nb\r\n.\r\n', 'a\r\nb\r\n', true, ''],
    ['keeps a bare CR as it is', 'a\rb\r\n.\r\n', 'a\rb\r\n', true, ''],
    ['waits for more without an end', 'a\r\n.', 'a\r\n', false, ''],
    ['does not take "\\r\\n.x" as an end', 'a\r\n.x\r\n', 'a\r\nx\r\n', false, ''],
  ] as const) {
    for (const chunk of [undefined, 1, 2, 3]) {
      it(`${name} (chunks of ${chunk ?? 'all'})`, () => {
        assert.deepEqual(decodeAll(input, chunk), { message, done, rest });
      });
    }
  }

  it('counts bare line feeds', () => {
    const decoder = new DotDecoder();
    assert.equal(decoder.feed(Buffer.from('a\nb\n.\r\n')).bareLineFeeds, 2);
  });
});

describe('dotStuff', () => {
  it('doubles a dot at the start of every line, across chunks', () => {
    let at = true;
    const out: Buffer[] = [];
    for (const part of ['.a\r\n', '.', 'b\r\nc.\r\n.d']) {
      const r = dotStuff(Buffer.from(part), at);
      out.push(r.data);
      at = r.atLineStart;
    }
    assert.equal(Buffer.concat(out).toString(), '..a\r\n..b\r\nc.\r\n..d');
  });
  it('says whether the next chunk starts a line', () =>
    assert.equal(dotStuff(Buffer.from('x\r\n'), false).atLineStart, true));
});
