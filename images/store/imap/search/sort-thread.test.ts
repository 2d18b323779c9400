import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeLine, adjacent } from '../protocol/response.ts';
import { baseSubject } from './base-subject.ts';
import {
  renderThreads,
  sortMessages,
  threadOrderedSubject,
  threadReferences,
  type SortFacts,
} from './sort-thread.ts';

let n = 0;
function msg(facts: Partial<SortFacts>): SortFacts {
  n++;
  return {
    id: n,
    seq: n,
    size: 100,
    internalDate: n * 1000,
    sentDate: n * 1000,
    subject: 'x',
    from: '',
    to: '',
    cc: '',
    fromDisplay: '',
    toDisplay: '',
    messageId: undefined,
    references: [],
    ...facts,
  };
}
const threads = (roots: ReturnType<typeof threadReferences>) =>
  encodeLine([adjacent(renderThreads(roots))])
    .toString()
    .trim();

describe('RFC 5256 base subject', () => {
  it('removes reply and forward prefixes, list blobs, (fwd) trailers and [fwd: ] wrappers', () => {
    for (const [subject, base, reply] of [
      ['Re: hello', 'HELLO', true],
      ['RE: [list] Re[2]: Fwd: hello (fwd)', 'HELLO', true],
      ['[fwd: Re: hello]', 'HELLO', true],
      ['  [list]  hello   world ', 'HELLO WORLD', false],
      ['[only-a-blob]', '[ONLY-A-BLOB]', false],
      ['=?utf-8?q?Re=3A_K=C3=A4se?=', 'KÄSE', true],
      ['', '', false],
    ] as const) {
      assert.deepEqual(baseSubject(subject), { base, isReplyOrForward: reply }, subject);
    }
  });
});

describe('SORT', () => {
  it('orders by several keys, REVERSE on one, the sequence number breaking ties', () => {
    n = 0;
    const list = [
      msg({ subject: 'Re: b', size: 5 }),
      msg({ subject: 'a', size: 9 }),
      msg({ subject: 'b', size: 5 }),
      msg({ subject: 'A', size: 1 }),
    ];
    assert.deepEqual(sortMessages(list, [{ criterion: 'SUBJECT', reverse: false }]), [2, 4, 1, 3]);
    assert.deepEqual(
      sortMessages(list, [
        { criterion: 'SIZE', reverse: true },
        { criterion: 'SUBJECT', reverse: false },
      ]),
      [2, 1, 3, 4],
    );
    assert.deepEqual(sortMessages(list, [{ criterion: 'ARRIVAL', reverse: true }]), [4, 3, 2, 1]);
  });
});

describe('THREAD', () => {
  it('ORDEREDSUBJECT groups by base subject, first message as parent, threads by date', () => {
    n = 0;
    const list = [
      msg({ subject: 'b' }),
      msg({ subject: 'a' }),
      msg({ subject: 'Re: b' }),
      msg({ subject: 'Re: a' }),
      msg({ subject: 'Re: b' }),
      msg({ subject: 'c' }),
    ];
    assert.equal(threads(threadOrderedSubject(list)), '(1 (3)(5))(2 4)(6)');
  });

  it('REFERENCES follows References and In-Reply-To, keeps missing parents out, merges by subject', () => {
    n = 0;
    const list = [
      msg({ messageId: '<1@x>', subject: 'topic' }),
      msg({ messageId: '<2@x>', subject: 'Re: topic', references: ['<1@x>'] }),
      msg({ messageId: '<3@x>', subject: 'Re: topic', references: ['<1@x>', '<2@x>'] }),
      msg({ messageId: '<4@x>', subject: 'Re: topic', references: ['<1@x>'] }),
      msg({ messageId: '<5@x>', subject: 'other', references: ['<gone@x>'] }),
      msg({ messageId: '<6@x>', subject: 'Re: other', references: ['<gone@x>'] }),
      msg({ messageId: '<7@x>', subject: 'Re: topic' }),
    ];
    assert.equal(threads(threadReferences(list)), '(1 (2 3)(4)(7))((5)(6))');
  });

  it('survives reference loops and duplicate Message-IDs', () => {
    n = 0;
    const list = [
      msg({ messageId: '<a@x>', references: ['<b@x>'] }),
      msg({ messageId: '<b@x>', references: ['<a@x>'] }),
      msg({ messageId: '<a@x>', subject: 'dup' }),
    ];
    const rendered = threads(threadReferences(list));
    for (const id of ['1', '2', '3']) assert.match(rendered, new RegExp(`\\b${id}\\b`));
  });
});
