// Which hosts receive mail for a remote domain (RFC 5321 section 5.1): its MX records by preference,
// equal preferences in random order; no MX records means the domain's own address ("implicit MX");
// a single MX of "." means the domain takes no mail at all (null MX, RFC 7505). Then each MX host's
// addresses (A and AAAA), asked of the same DNS servers, so that an MX without an address is skipped
// with a reason instead of failing inside the SMTP client.
import { Resolver } from 'node:dns/promises';
import { addressFamily } from '../../lib/contract/cidr.ts';

export type MxAnswer =
  | { kind: 'hosts'; hosts: string[] }
  /** RFC 7505: the domain says it accepts no mail. Permanent (5.1.10). */
  | { kind: 'null-mx' }
  /** NXDOMAIN: there is no such domain. Permanent (5.1.2). */
  | { kind: 'no-domain' }
  /** The lookup itself failed: try later. */
  | { kind: 'error'; reason: string };

export interface MxRecord {
  exchange: string;
  priority: number;
}

export function orderMxRecords(records: MxRecord[], random: () => number = Math.random): string[] {
  const shuffled = records.map((r) => ({ r, key: random() }));
  shuffled.sort((a, b) => a.r.priority - b.r.priority || a.key - b.key);
  return [...new Set(shuffled.map(({ r }) => r.exchange.replace(/\.$/, '').toLowerCase()))];
}

export type MxLookup = (domain: string) => Promise<MxRecord[]>;

const NO_ANSWER = new Set(['ENODATA', 'ENOTFOUND']);

export async function resolveMxHosts(domain: string, lookup: MxLookup): Promise<MxAnswer> {
  let records: MxRecord[];
  try {
    records = await lookup(domain);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENODATA') return { kind: 'hosts', hosts: [domain] };
    if (code === 'ENOTFOUND') return { kind: 'no-domain' };
    return { kind: 'error', reason: `MX lookup for ${domain} failed: ${code ?? (error as Error).message}` };
  }
  if (records.length === 0) return { kind: 'hosts', hosts: [domain] };
  if (records.length === 1 && (records[0]!.exchange === '' || records[0]!.exchange === '.'))
    return { kind: 'null-mx' };
  return {
    kind: 'hosts',
    hosts: orderMxRecords(records.filter((r) => r.exchange !== '' && r.exchange !== '.')),
  };
}

/** MX and address lookups against the pod's resolvers, or the servers given ("127.0.0.1:5353"). */
export class MxResolver {
  readonly #resolver: Resolver;

  constructor(servers?: readonly string[]) {
    // Two tries of 5 s: a DNS server that does not answer defers the message, it does not hold a
    // delivery slot for the resolver's default minute.
    this.#resolver = new Resolver({ timeout: 5000, tries: 2 });
    if (servers && servers.length > 0) this.#resolver.setServers([...servers]);
  }

  mxHosts(domain: string): Promise<MxAnswer> {
    return resolveMxHosts(domain, (d) => this.#resolver.resolveMx(d));
  }

  /** A and AAAA addresses of a host (an address is its own answer); none when the name has none. */
  async addresses(host: string): Promise<string[]> {
    if (addressFamily(host)) return [host];
    const ask = async (query: Promise<string[]>) => {
      try {
        return await query;
      } catch (error) {
        if (NO_ANSWER.has((error as NodeJS.ErrnoException).code ?? '')) return [];
        throw error;
      }
    };
    const [v4, v6] = await Promise.all([
      ask(this.#resolver.resolve4(host)),
      ask(this.#resolver.resolve6(host)),
    ]);
    return [...v4, ...v6];
  }
}
