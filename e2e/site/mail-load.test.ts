// The load's bookkeeping: events counted per message, a mailbox compared with what was acknowledged,
// and the body the Python sender writes equal to the one the comparison expects.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { bodyOf, compareDelivery, countEvents, type LoadEvent } from './mail-load.ts';

const events: LoadEvent[] = [
  { n: 0, to: 'a@x', event: 'ack', t: 1 },
  { n: 1, to: 'a@x', event: '4xx', code: 451, stage: 'rcpt', t: 2 },
  { n: 1, to: 'a@x', event: 'ack', t: 3 },
  { n: 2, to: 'a@x', event: 'ambiguous', stage: 'dot', t: 4 },
  { n: 3, to: 'a@x', event: '5xx', code: 550, stage: 'rcpt', reply: 'no', t: 5 },
  { event: 'done', t: 6 },
];

test('counts each message once, whatever its retries', () => {
  const counts = countEvents(events);
  assert.equal(counts.sent, 4);
  assert.equal(counts.acknowledged, 2);
  assert.equal(counts.fourXX, 1);
  assert.equal(counts.fiveXX, 1);
  assert.equal(counts.ambiguous, 1);
  assert.deepEqual(counts.fiveXXReplies, ['rcpt: 550 no']);
});

test('a mailbox missing, doubling or altering an acknowledged message says so', () => {
  const found = (n: number, text = bodyOf('p', n)) => ({ uid: n, subject: `p-${n}`, text });
  assert.deepEqual(compareDelivery('p', events, [found(0), found(1), found(2)]), {
    delivered: 3,
    lost: [],
    duplicated: [],
    altered: [],
  });
  const bad = compareDelivery('p', events, [found(1), found(1), found(2, 'changed')]);
  assert.deepEqual(bad.lost, [0]);
  assert.deepEqual(bad.duplicated, [1]);
  assert.deepEqual(bad.altered, [2]);
});

test("the Python sender's body is the one compared", () => {
  const script = path.join(import.meta.dirname, 'mail-load.py');
  const body = execFileSync('python3', [
    '-c',
    `import importlib.util,sys;s=importlib.util.spec_from_file_location('m',${JSON.stringify(script)});m=importlib.util.module_from_spec(s);s.loader.exec_module(m);sys.stdout.write(m.body_of('p',7))`,
  ]).toString();
  assert.equal(body, bodyOf('p', 7));
});
