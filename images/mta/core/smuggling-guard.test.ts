import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { guardMessage } from './smuggling-guard.ts';

const b = (s: string) => Buffer.from(s, 'latin1');

describe('SmugglingGuard', () => {
  // What reaches onData (after smtp-server's unstuffing), and whether it is a smuggling attempt.
  const smuggled: [string, string][] = [
    ['LF.LF', 'Subject: x\r\n\r\nhello\n.\nMAIL FROM:<a@b>\r\n'],
    ['LF.CRLF', 'Subject: x\r\n\r\nhello\n.\r\nMAIL FROM:<a@b>\r\n'],
    ['CRLF.LF', 'Subject: x\r\n\r\nhello\r\n.\nMAIL FROM:<a@b>\r\n'],
    ['CR.CR', 'Subject: x\r\n\r\nhello\r.\rMAIL FROM:<a@b>\r\n'],
    ['CRLF.CR', 'Subject: x\r\n\r\nhello\r\n.\rMAIL FROM:<a@b>\r\n'],
    ['CR.CRLF', 'Subject: x\r\n\r\nhello\r.\r\nMAIL FROM:<a@b>\r\n'],
    ['a dot at the very end after a bare LF', 'Subject: x\r\n\r\nhello\n.'],
  ];
  for (const [name, message] of smuggled) {
    it(`flags ${name}, whatever the chunk size`, () => {
      for (const size of [1, 2, 3, 7, 1000]) {
        assert.equal(guardMessage(b(message), size).smuggling, true, `chunk size ${size}`);
      }
    });
  }

  const clean: [string, string, string][] = [
    ['a CRLF-clean message, unchanged', 'Subject: x\r\n\r\nhello\r\n', 'Subject: x\r\n\r\nhello\r\n'],
    ['an unstuffed dot line between CRLFs (the client sent "..")', 'a\r\n.\r\nb\r\n', 'a\r\n.\r\nb\r\n'],
    ['bare LFs, normalised to CRLF', 'Subject: x\n\nhello\nworld\n', 'Subject: x\r\n\r\nhello\r\nworld\r\n'],
    ['a bare CR, normalised', 'a\rb\r\n', 'a\r\nb\r\n'],
    ['a CR at the very end', 'a\r', 'a\r\n'],
    ['dots that are not alone on a line', 'x\n.a\n..\na.\n', 'x\r\n.a\r\n..\r\na.\r\n'],
  ];
  for (const [name, input, output] of clean) {
    it(`passes ${name}`, () => {
      for (const size of [1, 2, 5, 1000]) {
        const result = guardMessage(b(input), size);
        assert.equal(result.smuggling, false, `chunk size ${size}`);
        assert.equal(result.output.toString('latin1'), output, `chunk size ${size}`);
      }
    });
  }

  it('counts the bare line endings it fixed', () => {
    assert.equal(guardMessage(b('a\nb\rc\r\n')).bare, 2);
  });

  it('keeps 8-bit and UTF-8 bytes as they are', () => {
    const utf8 = Buffer.from('Grüße\r\n', 'utf8');
    assert.deepEqual(guardMessage(utf8, 1).output, utf8);
  });
});
