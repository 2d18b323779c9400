import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addressChanges, assignAddresses, poolContains } from './load-balancer-pool.ts';

const pool = { first: '10.0.0.10', last: '10.0.0.12' };
const svc = (key: string, created: string, extra: { current?: string; requested?: string } = {}) => ({
  key,
  created,
  ...extra,
});

test('new Services get the lowest free addresses, oldest first', () => {
  const { addresses, unassigned } = assignAddresses(
    [svc('a/late', '2026-01-02'), svc('a/early', '2026-01-01')],
    pool,
  );
  assert.deepEqual(Object.fromEntries(addresses), { 'a/early': '10.0.0.10', 'a/late': '10.0.0.11' });
  assert.equal(unassigned.size, 0);
});

test('an address already given stays with its Service, even when an older Service has none', () => {
  const { addresses } = assignAddresses(
    [svc('a/old', '2026-01-01'), svc('a/kept', '2026-01-02', { current: '10.0.0.10' })],
    pool,
  );
  assert.equal(addresses.get('a/kept'), '10.0.0.10');
  assert.equal(addresses.get('a/old'), '10.0.0.11');
});

test('spec.loadBalancerIP is granted when free and in the pool, refused with a reason otherwise', () => {
  const { addresses, unassigned } = assignAddresses(
    [
      svc('a/asks', '2026-01-01', { requested: '10.0.0.12' }),
      svc('a/outside', '2026-01-02', { requested: '192.0.2.1' }),
      svc('a/clash', '2026-01-03', { requested: '10.0.0.12' }),
    ],
    pool,
  );
  assert.equal(addresses.get('a/asks'), '10.0.0.12');
  assert.match(unassigned.get('a/outside') ?? '', /outside the pool/);
  assert.match(unassigned.get('a/clash') ?? '', /taken/);
});

test('a used-up pool leaves the newest Services without an address and says so', () => {
  const services = ['a', 'b', 'c', 'd'].map((name, i) => svc(`n/${name}`, `2026-01-0${i + 1}`));
  const { addresses, unassigned } = assignAddresses(services, pool);
  assert.equal(addresses.size, 3);
  assert.match(unassigned.get('n/d') ?? '', /used up/);
});

test('an address outside the pool in status is replaced by one from it', () => {
  const { addresses } = assignAddresses([svc('a/x', '2026-01-01', { current: '192.0.2.7' })], pool);
  assert.equal(addresses.get('a/x'), '10.0.0.10');
});

test('poolContains is false for malformed input', () => {
  assert.equal(poolContains(pool, '10.0.0.11'), true);
  assert.equal(poolContains(pool, '10.0.0.13'), false);
  assert.equal(poolContains(pool, 'not-an-ip'), false);
});

test('addressChanges adds the missing and removes the stale', () => {
  assert.deepEqual(addressChanges(['10.0.0.10', '10.0.0.11'], ['10.0.0.11', '10.0.0.12']), {
    add: ['10.0.0.10'],
    remove: ['10.0.0.12'],
  });
});
