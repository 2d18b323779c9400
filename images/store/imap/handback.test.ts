import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { handbackLine, parseHandbackNonces } from '../../lib/contract/handback.ts';
import { ResyncScanner } from './handback.ts';

const marker = '0123456789abcdef0123456789abcdef';
const resync = 'fedcba9876543210fedcba9876543210';

describe('handback nonces', () => {
  it('takes two distinct hex nonces of 128 to 256 bits, nothing else', () => {
    assert.deepEqual(parseHandbackNonces(`${marker} ${resync}`), { marker, resync });
    for (const bad of [
      marker,
      `${marker} ${marker}`,
      `${marker}  ${resync}`,
      `${marker} ${resync.toUpperCase()}`,
      `${marker} ${resync.slice(2)}`,
      `${marker} ${resync}${resync}0`,
      `${marker} ${resync} x`,
    ])
      assert.equal(parseHandbackNonces(bad), undefined, bad);
    assert.equal(handbackLine(marker), `* X-MTOPO-HANDBACK ${marker}\r\n`);
  });
});

describe('ResyncScanner', () => {
  it('finds the resync line split across chunks and answers what follows it', () => {
    const whole = Buffer.from(`x NOOP\r\n{5}\r\nhello${resync}\r\na ID NIL\r\n`);
    for (let cut = 1; cut < whole.length; cut++) {
      const scanner = new ResyncScanner(resync, 1024);
      const first = scanner.push(whole.subarray(0, cut));
      // Found in the first chunk: what came after it in the second is the new session's already.
      const found = first === 'more' ? scanner.push(whole.subarray(cut)) : first;
      assert.ok(typeof found === 'object', `cut at ${cut}`);
      const after = first === 'more' ? '' : whole.subarray(cut).toString();
      assert.equal(found.rest.toString() + after, 'a ID NIL\r\n', `cut at ${cut}`);
    }
  });

  it('wants the whole line: the nonce without CRLF, or another nonce, is not it', () => {
    const scanner = new ResyncScanner(resync, 1024);
    assert.equal(scanner.push(Buffer.from(`${resync} \r\n${marker}\r\n${resync}`)), 'more');
    assert.deepEqual(scanner.push(Buffer.from('\r\n')), { rest: Buffer.alloc(0) });
  });

  it('gives up past its bound', () => {
    const scanner = new ResyncScanner(resync, 100);
    assert.equal(scanner.push(Buffer.alloc(100, 'x')), 'more');
    assert.equal(scanner.push(Buffer.alloc(1, 'x')), 'overflow');
  });
});
