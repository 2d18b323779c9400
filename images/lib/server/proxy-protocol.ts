// PROXY protocol v1 and v2 (HAProxy's spec, "The PROXY protocol", versions 1 and 2): a load balancer
// that terminates nothing but forwards TCP prepends the client's address to the stream. smtp-server's
// own `useProxy` reads v1 only, and cloud load balancers mostly send v2, so both are parsed here.
//
// The header is only trusted on a listener the operator configured for it: a client that can reach
// such a listener directly could otherwise claim any address (the firewall lets only the load
// balancer's traffic in).
import { addressFamily } from '../contract/cidr.ts';

export type ProxyVersion = 'v1' | 'v2';

export type ProxyParse =
  | { status: 'incomplete' }
  | { status: 'invalid'; reason: string }
  /** `source` is absent for a v1 UNKNOWN or a v2 LOCAL header (a health check by the balancer itself). */
  | { status: 'ok'; headerLength: number; source?: { address: string; port: number } };

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** v1 allows 107 bytes including CRLF (section 2.1). */
const V1_MAX = 107;
/** v2 headers are small; a bound keeps a hostile peer from making us buffer much. */
const V2_MAX = 16 + 2048;

export function parseProxyHeader(data: Buffer, version: ProxyVersion): ProxyParse {
  return version === 'v1' ? parseV1(data) : parseV2(data);
}

function parseV1(data: Buffer): ProxyParse {
  const prefix = Buffer.from('PROXY ');
  if (
    !data
      .subarray(0, Math.min(data.length, prefix.length))
      .equals(prefix.subarray(0, Math.min(data.length, prefix.length)))
  ) {
    return { status: 'invalid', reason: 'no PROXY v1 header' };
  }
  const end = data.indexOf('\r\n');
  if (end < 0) {
    return data.length >= V1_MAX
      ? { status: 'invalid', reason: 'PROXY v1 header too long' }
      : { status: 'incomplete' };
  }
  if (end + 2 > V1_MAX) return { status: 'invalid', reason: 'PROXY v1 header too long' };
  const parts = data.subarray(0, end).toString('latin1').split(' ');
  const headerLength = end + 2;
  if (parts[1] === 'UNKNOWN') return { status: 'ok', headerLength };
  if (parts.length !== 6 || (parts[1] !== 'TCP4' && parts[1] !== 'TCP6')) {
    return { status: 'invalid', reason: 'malformed PROXY v1 header' };
  }
  const [, family, address, , portText] = parts as [string, string, string, string, string, string];
  const port = Number(portText);
  const valid = addressFamily(address) === (family === 'TCP4' ? 4 : 6);
  if (!valid || !/^\d{1,5}$/.test(portText) || port > 65535) {
    return { status: 'invalid', reason: 'malformed address in PROXY v1 header' };
  }
  return { status: 'ok', headerLength, source: { address, port } };
}

function parseV2(data: Buffer): ProxyParse {
  const seen = Math.min(data.length, V2_SIGNATURE.length);
  if (!data.subarray(0, seen).equals(V2_SIGNATURE.subarray(0, seen))) {
    return { status: 'invalid', reason: 'no PROXY v2 signature' };
  }
  if (data.length < 16) return { status: 'incomplete' };
  const versionCommand = data[12]!;
  const family = data[13]!;
  const length = data.readUInt16BE(14);
  if (versionCommand >> 4 !== 2) return { status: 'invalid', reason: 'PROXY v2 header with another version' };
  if (16 + length > V2_MAX) return { status: 'invalid', reason: 'PROXY v2 header too long' };
  if (data.length < 16 + length) return { status: 'incomplete' };
  const headerLength = 16 + length;
  const command = versionCommand & 0x0f;
  if (command === 0x0) return { status: 'ok', headerLength }; // LOCAL: the balancer's own connection
  if (command !== 0x1) return { status: 'invalid', reason: 'unknown PROXY v2 command' };
  const body = data.subarray(16, headerLength);
  switch (family) {
    case 0x11: // TCP over IPv4
    case 0x12: // UDP over IPv4
      if (body.length < 12) return { status: 'invalid', reason: 'short PROXY v2 IPv4 addresses' };
      return {
        status: 'ok',
        headerLength,
        source: { address: [...body.subarray(0, 4)].join('.'), port: body.readUInt16BE(8) },
      };
    case 0x21: // TCP over IPv6
    case 0x22: {
      if (body.length < 36) return { status: 'invalid', reason: 'short PROXY v2 IPv6 addresses' };
      const groups: string[] = [];
      for (let i = 0; i < 16; i += 2) groups.push(body.readUInt16BE(i).toString(16));
      return {
        status: 'ok',
        headerLength,
        source: { address: groups.join(':'), port: body.readUInt16BE(32) },
      };
    }
    case 0x00: // UNSPEC
      return { status: 'ok', headerLength };
    default:
      return { status: 'invalid', reason: 'unsupported PROXY v2 address family' };
  }
}

/** Builds a header, for tests and for programs that sit behind one another. */
export function buildProxyHeader(
  version: ProxyVersion,
  source: { address: string; port: number },
  destination: { address: string; port: number },
): Buffer {
  if (version === 'v1') {
    const family = source.address.includes(':') ? 'TCP6' : 'TCP4';
    return Buffer.from(
      `PROXY ${family} ${source.address} ${destination.address} ${source.port} ${destination.port}\r\n`,
      'latin1',
    );
  }
  const body = Buffer.alloc(12);
  Buffer.from(source.address.split('.').map(Number)).copy(body, 0);
  Buffer.from(destination.address.split('.').map(Number)).copy(body, 4);
  body.writeUInt16BE(source.port, 8);
  body.writeUInt16BE(destination.port, 10);
  const head = Buffer.alloc(16);
  V2_SIGNATURE.copy(head, 0);
  head[12] = 0x21;
  head[13] = 0x11;
  head.writeUInt16BE(body.length, 14);
  return Buffer.concat([head, body]);
}
