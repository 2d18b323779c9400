import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { outcomeFromReply } from './outcome.ts';

describe('outcomeFromReply', () => {
  const cases: [number, string, string, string][] = [
    [250, '250 2.0.0 Ok: queued as X', 'delivered', '2.0.0'],
    [550, '550 5.1.1 <x@y>: Recipient address rejected', 'failed', '5.1.1'],
    [552, '552 Message too big', 'failed', '5.0.0'],
    [451, '451 4.3.0 try later', 'deferred', '4.3.0'],
    [421, '421 Service not available', 'deferred', '4.0.0'],
    [450, '450 5.7.1 confused server', 'deferred', '4.7.1'],
  ];
  for (const [code, reply, status, enhanced] of cases) {
    it(`${reply} → ${status} ${enhanced}`, () => {
      const o = outcomeFromReply('x@y', code, reply, 'mx.y');
      assert.equal(o.status, status);
      assert.equal(o.enhanced, enhanced);
    });
  }

  it('keeps a multi-line reply on one line', () => {
    assert.equal(
      outcomeFromReply('x@y', 550, '550-5.1.1 one\r\n550 5.1.1 two', 'h').diagnostic,
      '550-5.1.1 one 550 5.1.1 two',
    );
  });
});
