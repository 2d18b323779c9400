// The DNS records a site asks its owner to publish. The MX of every hosted domain names the
// internet-facing MTAs' load balancer, never an MMP: the multiplexor is for clients, and mail from
// the internet must enter through the DMZ.
import { isIPv4, isIPv6 } from 'node:net';
import { exposureOf } from './exposure.ts';
import { publishedHostnames, relaysWithRole, type Site } from './site.ts';

export interface DnsRecord {
  type: 'MX' | 'A' | 'AAAA' | 'CNAME';
  name: string;
  value: string;
  priority?: number;
}

/** Load balancer addresses by tier name, as read from the Services' status. */
export type LoadBalancerAddresses = ReadonlyMap<string, readonly string[]>;

function addressRecords(name: string, addresses: readonly string[]): DnsRecord[] {
  return [...addresses].sort().map((value) => {
    if (isIPv4(value)) return { type: 'A' as const, name, value };
    if (isIPv6(value)) return { type: 'AAAA' as const, name, value };
    return { type: 'CNAME' as const, name, value };
  });
}

export function dnsRecords(site: Site, addresses: LoadBalancerAddresses): DnsRecord[] {
  const { mx, clients } = publishedHostnames(site);
  const edges = relaysWithRole(site, 'internet').filter((t) => exposureOf(t).serviceType === 'LoadBalancer');
  const records: DnsRecord[] = [];
  if (edges.length > 0) {
    for (const domain of site.topology.spec.domains)
      records.push({ type: 'MX', name: domain, value: mx, priority: 10 });
    records.push(
      ...addressRecords(
        mx,
        edges.flatMap((t) => addresses.get(t.name) ?? []),
      ),
    );
  }
  const pools = site.pools.filter((p) => exposureOf(p).serviceType === 'LoadBalancer');
  records.push(
    ...addressRecords(
      clients,
      pools.flatMap((p) => addresses.get(p.name) ?? []),
    ),
  );
  return records;
}
