// Which hosts receive mail for a remote domain (RFC 5321 section 5.1): its MX records by preference,
// equal preferences in random order; no MX records means the domain's own address ("implicit MX");
// a single MX of "." means the domain takes no mail at all (null MX, RFC 7505).
import { promises as dns } from 'node:dns';

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

export async function resolveMxHosts(
  domain: string,
  lookup: MxLookup = (d) => dns.resolveMx(d),
): Promise<MxAnswer> {
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
