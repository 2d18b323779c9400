import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AddressSet, inCidr, isCidr, parseCidr, PRIVATE_RANGES } from './cidr.ts';

describe('AddressSet', () => {
  it('matches addresses inside its ranges and no others', () => {
    const set = new AddressSet(['10.20.0.0/16', '2001:db8::/32', '192.0.2.7']);
    assert.equal(set.has('10.20.3.4'), true);
    assert.equal(set.has('10.21.0.1'), false);
    assert.equal(set.has('2001:db8::5'), true);
    assert.equal(set.has('2001:db9::5'), false);
    assert.equal(set.has('192.0.2.7'), true);
    assert.equal(set.has('192.0.2.8'), false);
  });

  it('reads IPv4-mapped IPv6 peers as IPv4', () => {
    assert.equal(new AddressSet(['127.0.0.0/8']).has('::ffff:127.0.0.1'), true);
  });

  it('treats the private defaults as private and the internet as not', () => {
    const set = new AddressSet(PRIVATE_RANGES);
    for (const inside of [
      '127.0.0.1',
      '10.1.2.3',
      '172.31.255.1',
      '192.168.0.1',
      '100.64.0.1',
      '::1',
      'fd00::1',
    ]) {
      assert.equal(set.has(inside), true, inside);
    }
    for (const outside of ['8.8.8.8', '172.32.0.1', '203.0.113.9', '2001:db8::1']) {
      assert.equal(set.has(outside), false, outside);
    }
  });

  it('refuses entries that are not ranges, naming them', () => {
    for (const bad of ['10.0.0.0/33', 'example.test', '10.0.0.0/', '::/129', '10.0.0.0/8x']) {
      assert.throws(() => new AddressSet([bad]), new RegExp(bad.replace(/[./:]/g, '\\$&')));
    }
  });
});

describe('parseCidr', () => {
  it('reads a bare address as a host range', () => {
    assert.deepEqual(parseCidr('192.0.2.7'), { address: '192.0.2.7', prefix: 32, family: 4 });
    assert.deepEqual(parseCidr('2001:db8::1'), { address: '2001:db8::1', prefix: 128, family: 6 });
  });

  it('refuses prefixes beyond the family and text that is no address', () => {
    for (const bad of ['10.0.0.0/33', '::/129', 'host.example/8', '10.0.0.0/-1', '10.0.0.0/08x', '']) {
      assert.equal(isCidr(bad), false, bad);
    }
  });

  it('matches one address against one range, across the IPv4-mapped form', () => {
    assert.equal(inCidr('::ffff:10.1.2.3', '10.0.0.0/8'), true);
    assert.equal(inCidr('10.1.2.3', 'fc00::/7'), false);
  });
});
