import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { orderMxRecords, resolveMxHosts } from './mx-resolver.ts';

const fail = (code: string) => () => Promise.reject(Object.assign(new Error(code), { code }));

describe('MX resolution', () => {
  it('orders hosts by preference, lowest first, without trailing dots or duplicates', () => {
    const records = [
      { exchange: 'b.example.', priority: 20 },
      { exchange: 'A.example', priority: 10 },
      { exchange: 'b.example', priority: 30 },
    ];
    assert.deepEqual(orderMxRecords(records), ['a.example', 'b.example']);
  });

  it('shuffles hosts of equal preference (RFC 5321 section 5.1)', () => {
    const records = [
      { exchange: 'a', priority: 10 },
      { exchange: 'b', priority: 10 },
    ];
    assert.deepEqual(
      orderMxRecords(
        records,
        (() => {
          let i = 0;
          return () => [0.9, 0.1][i++ % 2]!;
        })(),
      ),
      ['b', 'a'],
    );
  });

  it('falls back to the domain itself when it has no MX records', async () => {
    assert.deepEqual(await resolveMxHosts('example.test', fail('ENODATA')), {
      kind: 'hosts',
      hosts: ['example.test'],
    });
  });

  it('recognises a null MX (RFC 7505)', async () => {
    assert.deepEqual(
      await resolveMxHosts('example.test', () => Promise.resolve([{ exchange: '', priority: 0 }])),
      { kind: 'null-mx' },
    );
  });

  it('tells a missing domain from a failed lookup', async () => {
    assert.deepEqual(await resolveMxHosts('nope.test', fail('ENOTFOUND')), { kind: 'no-domain' });
    assert.equal((await resolveMxHosts('x.test', fail('ETIMEOUT'))).kind, 'error');
  });
});
