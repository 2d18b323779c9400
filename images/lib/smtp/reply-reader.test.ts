import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMtopoError } from '../errors.ts';
import { enhancedStatus, SmtpReplyReader } from './reply-reader.ts';

describe('SmtpReplyReader', () => {
  it('joins a multi-line reply and reads its enhanced status code', () => {
    const r = new SmtpReplyReader();
    assert.deepEqual(r.push('250-mx.example\r\n250-PIPELINING\r\n'), []);
    const [reply] = r.push('250 2.0.0 STARTTLS\r\n');
    assert.equal(reply?.code, 250);
    assert.deepEqual(reply?.lines, ['mx.example', 'PIPELINING', '2.0.0 STARTTLS']);
    assert.equal(reply?.enhanced, '2.0.0');
  });

  it('returns every reply a chunk completes, across chunk boundaries, bare LF too', () => {
    const r = new SmtpReplyReader();
    assert.deepEqual(r.push('220 ready\r\n250 o'), [
      { code: 220, lines: ['ready'], text: 'ready', enhanced: undefined },
    ]);
    assert.equal(r.push('k\n354')[0]?.text, 'ok');
    assert.equal(r.pending, '354');
    assert.equal(r.push('\r\n')[0]?.code, 354);
  });

  it('refuses what is not a reply, a changing code, and unbounded input', () => {
    const fails = (input: string) =>
      assert.throws(
        () => new SmtpReplyReader().push(input),
        (e: unknown) => isMtopoError(e, 'EPROTOCOL'),
      );
    fails('hello\r\n');
    fails('250-a\r\n550 b\r\n');
    fails('2'.repeat(5000));
    fails('250-x\r\n'.repeat(101));
  });
});

describe('enhancedStatus', () => {
  it('finds the RFC 3463 code at the start only', () => {
    assert.equal(enhancedStatus('5.1.1 No such user'), '5.1.1');
    assert.equal(enhancedStatus('No such user 5.1.1'), undefined);
    assert.equal(enhancedStatus('5.1.1000 odd'), undefined);
  });
});
