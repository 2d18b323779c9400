import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeEnvelopeLine, encodeEnvelopeLine, newQueueId, type Envelope } from './envelope.ts';

const envelope: Envelope = {
  id: newQueueId(0),
  sender: 'a@example.test',
  recipients: ['b@example.test'],
  arrivedAt: 1,
  bodyType: '8bitmime',
  smtpUtf8: false,
  client: { address: '192.0.2.1', helo: 'x' },
};

describe('spool envelope line', () => {
  it('round-trips and tells where the message starts', () => {
    const file = Buffer.concat([encodeEnvelopeLine(envelope), Buffer.from('Subject: x\r\n\r\nbody')]);
    const { envelope: read, bodyOffset } = decodeEnvelopeLine(file);
    assert.deepEqual(read, envelope);
    assert.equal(file.subarray(bodyOffset).toString(), 'Subject: x\r\n\r\nbody');
  });

  it('refuses a file that is not a spool file or is damaged', () => {
    assert.throws(() => decodeEnvelopeLine(Buffer.from('Subject: x\n')), /not a spool file/);
    assert.throws(() => decodeEnvelopeLine(Buffer.from('MTOPO1 {"id":"X"}\n')));
  });

  it('makes queue ids that sort by time and are file-name safe', () => {
    const a = newQueueId(1_000);
    const b = newQueueId(2_000_000_000_000);
    assert.match(a, /^[0-9A-Z]{19}$/);
    assert.ok(a < b);
    assert.notEqual(newQueueId(5), newQueueId(5));
  });
});
