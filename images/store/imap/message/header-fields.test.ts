import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fieldsNamed, splitHeaderFields } from './header-fields.ts';

describe('fieldsNamed', () => {
  const blocks = [
    'From: a@b\r\nSubject: one\r\nTo: c@d\r\n\r\n',
    'Subject: folded\r\n over two\r\n\tand three\r\nX-Subject: not it\r\nSubject : again\r\n\r\nSubject: in the body\r\n',
    'subject:lower\nFrom: bare LF\n\nSubject: body\n',
    'SUBJECT: caps\r\nSubjects: other\r\n',
    'Subject: caf\xc3\xa9 utf-8\r\n\r\n',
    '\r\nSubject: after an empty header\r\n',
  ];
  for (const [i, text] of blocks.entries())
    it(`finds what splitHeaderFields finds (block ${i + 1})`, () => {
      const block = Buffer.from(text, 'latin1');
      for (const name of ['subject', 'from', 'to', 'x-subject', 'subjects', 'date'])
        assert.deepEqual(
          fieldsNamed(block, name).map((f) => f.raw.toString('latin1')),
          splitHeaderFields(block)
            .filter((f) => f.name === name)
            .map((f) => f.raw.toString('latin1')),
          name,
        );
    });
});
