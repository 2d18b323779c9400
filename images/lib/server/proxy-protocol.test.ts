import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildProxyHeader, parseProxyHeader } from './proxy-protocol.ts';

const v2 = (hex: string) => Buffer.from(hex.replace(/\s+/g, ''), 'hex');
const SIG = '0d0a0d0a000d0a515549540a';

describe('parseProxyHeader v1', () => {
  it('reads the client address and port and the header length', () => {
    const data = Buffer.from('PROXY TCP4 203.0.113.7 10.0.0.1 51234 2525\r\nEHLO x\r\n');
    assert.deepEqual(parseProxyHeader(data, 'v1'), {
      status: 'ok',
      headerLength: 44,
      source: { address: '203.0.113.7', port: 51234 },
    });
  });

  it('accepts UNKNOWN with no address', () => {
    assert.deepEqual(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n'), 'v1'), {
      status: 'ok',
      headerLength: 15,
    });
  });

  it('waits for the rest of a header cut by the network', () => {
    assert.deepEqual(parseProxyHeader(Buffer.from('PROXY TCP4 203.0'), 'v1'), { status: 'incomplete' });
    assert.deepEqual(parseProxyHeader(Buffer.from('PRO'), 'v1'), { status: 'incomplete' });
  });

  const invalid: [string, string][] = [
    ['an SMTP command instead of a header', 'EHLO client\r\n'],
    ['a host name as address', 'PROXY TCP4 evil.example 10.0.0.1 1 2\r\n'],
    ['CRLF injection in the address', 'PROXY TCP4 1.2.3.4\rX 10.0.0.1 1 2\r\n'],
    ['an out-of-range port', 'PROXY TCP4 1.2.3.4 10.0.0.1 99999 2\r\n'],
    ['an octet over 255', 'PROXY TCP4 1.2.3.400 10.0.0.1 1 2\r\n'],
    ['a header over 107 bytes', `PROXY TCP4 ${'1'.repeat(120)}`],
  ];
  for (const [name, text] of invalid) {
    it(`refuses ${name}`, () => {
      assert.equal(parseProxyHeader(Buffer.from(text, 'latin1'), 'v1').status, 'invalid');
    });
  }
});

describe('parseProxyHeader v2', () => {
  it('reads a TCP over IPv4 header', () => {
    const data = v2(`${SIG} 21 11 000c cb007107 0a000001 c822 09c5`);
    assert.deepEqual(parseProxyHeader(data, 'v2'), {
      status: 'ok',
      headerLength: 28,
      source: { address: '203.0.113.7', port: 51234 },
    });
  });

  it('reads a TCP over IPv6 header and skips TLVs', () => {
    const src = '20010db8000000000000000000000001';
    const dst = '20010db8000000000000000000000002';
    const data = v2(`${SIG} 21 21 0027 ${src} ${dst} 1f90 09c5 04 0000`);
    assert.deepEqual(parseProxyHeader(data, 'v2'), {
      status: 'ok',
      headerLength: 55,
      source: { address: '2001:db8:0:0:0:0:0:1', port: 8080 },
    });
  });

  it('accepts LOCAL (the balancer checking health) with no address', () => {
    assert.deepEqual(parseProxyHeader(v2(`${SIG} 20 00 0000`), 'v2'), { status: 'ok', headerLength: 16 });
  });

  it('waits for a header cut by the network', () => {
    assert.deepEqual(parseProxyHeader(v2(`${SIG} 21 11 000c cb00`), 'v2'), { status: 'incomplete' });
  });

  it('refuses a v1 header on a v2 listener, and a wrong version nibble', () => {
    assert.equal(parseProxyHeader(Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n'), 'v2').status, 'invalid');
    assert.equal(
      parseProxyHeader(v2(`${SIG} 11 11 000c cb007107 0a000001 c822 09c5`), 'v2').status,
      'invalid',
    );
  });

  it('round-trips what buildProxyHeader writes', () => {
    for (const version of ['v1', 'v2'] as const) {
      const header = buildProxyHeader(
        version,
        { address: '198.51.100.9', port: 4000 },
        { address: '10.1.1.1', port: 2525 },
      );
      const parsed = parseProxyHeader(header, version);
      assert.deepEqual(parsed, {
        status: 'ok',
        headerLength: header.length,
        source: { address: '198.51.100.9', port: 4000 },
      });
    }
  });
});
