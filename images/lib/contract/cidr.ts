// The one IP address and CIDR module: parsing, checking and matching address ranges, for the
// programs (who may connect, who may prove itself as a proxy) and for the operator (config values,
// firewall peers). It lives with the contract because config values are CIDRs: the schema that
// accepts a range (address-list.ts) and the code that matches it must agree on what a range is.
// No zod here: every program's listener loads this file, and zod stays out of the long-running
// programs (images/lib/load-config.ts).
import { BlockList, isIP } from 'node:net';

export type AddressFamily = 4 | 6;

export interface Cidr {
  readonly address: string;
  readonly prefix: number;
  readonly family: AddressFamily;
}

/**
 * Loopback and the private ranges pod networks are drawn from (RFC 1918, the RFC 6598 shared range
 * some clouds use for pods, IPv6 unique-local RFC 4193): what an internal tier serves when the
 * operator names no ranges.
 */
export const PRIVATE_RANGES: readonly string[] = [
  '127.0.0.0/8',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  '::1/128',
  'fc00::/7',
];

/** A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; this gives the plain IPv4 form. */
export function plainAddress(address: string): string {
  return address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
}

export function addressFamily(address: string): AddressFamily | undefined {
  const family = isIP(address);
  return family === 4 || family === 6 ? family : undefined;
}

/** "10.0.0.0/8", "2001:db8::/32", or a bare address (a /32 or /128). Undefined when it is neither. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const prefixText = slash < 0 ? undefined : text.slice(slash + 1);
  const family = addressFamily(address);
  if (!family) return undefined;
  const max = family === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefix > max) return undefined;
  return { address, prefix, family };
}

export function isCidr(text: string): boolean {
  return parseCidr(text) !== undefined;
}

/** A set of address ranges, asked "is this client in it?". */
export class AddressSet {
  readonly #list = new BlockList();
  readonly cidrs: readonly string[];

  /** Throws with the offending entry when one is not an address or CIDR. */
  constructor(cidrs: readonly string[]) {
    this.cidrs = cidrs;
    for (const text of cidrs) {
      const cidr = parseCidr(text);
      if (!cidr) throw new Error(`not an IP address or CIDR: ${JSON.stringify(text)}`);
      this.#list.addSubnet(cidr.address, cidr.prefix, cidr.family === 4 ? 'ipv4' : 'ipv6');
    }
  }

  has(address: string): boolean {
    const plain = plainAddress(address);
    const family = addressFamily(plain);
    if (!family) return false;
    return this.#list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/** Whether `address` lies in `cidr` (one range; for many, build an AddressSet once). */
export function inCidr(address: string, cidr: string): boolean {
  const range = parseCidr(cidr);
  const plain = plainAddress(address);
  if (!range || addressFamily(plain) !== range.family) return false;
  return new AddressSet([cidr]).has(plain);
}
