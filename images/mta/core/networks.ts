// Address ranges the MTA trusts: who may connect to an internal tier, who may prove itself as the
// XCLIENT proxy. The firewall (NetworkPolicies) is the first wall; this is the second, for a cluster
// whose network plugin does not enforce policies.
import { BlockList, isIP } from 'node:net';

/**
 * When the operator names no ranges: loopback and the private ranges pod networks are drawn from
 * (RFC 1918, the RFC 6598 shared range some clouds use for pods, IPv6 unique-local RFC 4193).
 */
export const PRIVATE_RANGES = [
  '127.0.0.0/8',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  '::1/128',
  'fc00::/7',
];

export class NetworkSet {
  readonly #list = new BlockList();
  readonly cidrs: readonly string[];

  /** Throws with the offending entry when one is not an address or CIDR. */
  constructor(cidrs: readonly string[]) {
    this.cidrs = cidrs;
    for (const cidr of cidrs) {
      const [address = '', prefixText] = cidr.split('/');
      const family = isIP(address);
      const max = family === 4 ? 32 : 128;
      const prefix = prefixText === undefined ? max : Number(prefixText);
      if (
        family === 0 ||
        !Number.isInteger(prefix) ||
        prefix < 0 ||
        prefix > max ||
        (prefixText !== undefined && !/^\d+$/.test(prefixText))
      ) {
        throw new Error(`not an IP address or CIDR: ${JSON.stringify(cidr)}`);
      }
      this.#list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
    }
  }

  has(address: string): boolean {
    // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d.
    const plain = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
    const family = isIP(plain);
    if (family === 0) return false;
    return this.#list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
  }
}
