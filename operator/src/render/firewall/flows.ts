// The firewall model (DESIGN §4) as data: every flow the mail system needs, and nothing else. The
// NetworkPolicies are rendered from this list and the diagram draws it, so what the picture shows is
// what the walls allow. Default deny covers everything not listed here.
import { PORTS, type PortKey } from '../../../../images/lib/contract/ports.ts';
import type { ClientProtocol, ClientZone } from '../../api/messaging-topology.ts';
import { relaysWithRole, type PoolTier, type RelayTier, type Site, type Tier } from '../site.ts';

export interface FlowPort {
  /** What the NetworkPolicy names: the container port for pods, the real port outside the cluster. */
  readonly port: number;
  /** What people know it as (25, 143…), for diagrams. */
  readonly wellKnown: number;
  readonly protocol: 'TCP' | 'UDP';
  readonly label: string;
}

/** Peers outside this topology's pods, in the NetworkPolicy's own terms. */
export type ExternalPeer =
  | { readonly ipBlock: { cidr: string; except?: string[] } }
  | {
      readonly namespaceSelector: { matchLabels?: Record<string, string> };
      readonly podSelector?: { matchLabels: Record<string, string> };
    };

export type FlowEnd =
  | { readonly kind: 'tier'; readonly tier: Tier }
  | {
      readonly kind: 'zone';
      /** internet, directory, dns, monitoring, legacy:<name>, clients:<name> */
      readonly zone: string;
      readonly peers: readonly ExternalPeer[];
    };

export interface Flow {
  readonly from: FlowEnd;
  readonly to: FlowEnd;
  readonly ports: readonly FlowPort[];
  /** Why the flow exists, for diagrams and policy annotations. */
  readonly purpose: string;
}

const tcp = (key: PortKey): FlowPort => ({
  port: PORTS[key].container,
  wellKnown: PORTS[key].service,
  protocol: 'TCP',
  label: key,
});
const external = (port: number, label: string): FlowPort => ({
  port,
  wellKnown: port,
  protocol: 'TCP',
  label,
});
const tierEnd = (tier: Tier): FlowEnd => ({ kind: 'tier', tier });

function ipBlocks(cidrs: readonly string[], except: readonly string[] = []): ExternalPeer[] {
  return cidrs.map((cidr) => {
    const v6 = cidr.includes(':');
    const cut = except.filter((e) => e.includes(':') === v6 && e !== cidr);
    return cut.length > 0 ? { ipBlock: { cidr, except: [...cut] } } : { ipBlock: { cidr } };
  });
}

/**
 * The internet is the internet ranges less every range the site knows to be its own: the cluster,
 * the directory, the legacy systems and the client zones. Without the cut, "the outbound MTA may
 * reach the internet on 25" would also let it reach a legacy system on 25.
 */
export function internetEnd(site: Site): FlowEnd {
  const { network, directory } = site.topology.spec;
  const internal = [
    ...network.clusterCIDRs,
    ...directory.cidrs,
    ...network.legacySystems.flatMap((l) => l.cidrs),
    ...network.clientZones.flatMap((z) => z.cidrs ?? []),
  ];
  return { kind: 'zone', zone: 'internet', peers: ipBlocks(network.internetCIDRs, [...new Set(internal)]) };
}

export function directoryPorts(urls: readonly string[]): number[] {
  const ports = urls.map((url) => {
    const match = /^(ldaps?):\/\/[^:/]+(?::([0-9]+))?/.exec(url);
    if (match?.[2]) return Number(match[2]);
    return match?.[1] === 'ldaps' ? 636 : 389;
  });
  return [...new Set(ports)].sort((a, b) => a - b);
}

function directoryFlow(site: Site, tier: Tier): Flow {
  const { directory } = site.topology.spec;
  return {
    from: tierEnd(tier),
    to: { kind: 'zone', zone: 'directory', peers: ipBlocks(directory.cidrs) },
    ports: directoryPorts(directory.urls).map((p) => external(p, p === 636 ? 'ldaps' : 'ldap')),
    purpose: 'look up users, aliases and mailHost',
  };
}

function clientZoneEnd(zone: ClientZone): FlowEnd {
  const peers: ExternalPeer[] = [...ipBlocks(zone.cidrs ?? [])];
  if (zone.namespaceSelector) peers.push({ namespaceSelector: zone.namespaceSelector });
  return { kind: 'zone', zone: `clients:${zone.name}`, peers };
}

const allowed = (zone: ClientZone, protocol: ClientProtocol) => zone.allow.includes(protocol);

function poolIngress(site: Site, pool: PoolTier): Flow[] {
  const spec = pool.pool.spec;
  const served = (protocol: ClientProtocol): boolean =>
    protocol === 'submission' || protocol === 'submissions'
      ? pool.smtpProxyTarget !== undefined
      : (spec.protocols as readonly string[]).includes(protocol);
  const zones = site.topology.spec.network.clientZones.filter(
    (z) => spec.access.zones === undefined || spec.access.zones.includes(z.name),
  );
  const flows: Flow[] = [];
  for (const zone of zones) {
    const ports = zone.allow.filter(served).map((p) => tcp(p));
    if (ports.length > 0) {
      flows.push({
        from: clientZoneEnd(zone),
        to: tierEnd(pool),
        ports,
        purpose: 'clients read and send mail',
      });
    }
  }
  if (spec.access.internet) {
    const everything: ClientProtocol[] = ['imap', 'imaps', 'pop3', 'pop3s', 'submission', 'submissions'];
    const ports = everything.filter(served).map((p) => tcp(p));
    flows.push({ from: internetEnd(site), to: tierEnd(pool), ports, purpose: 'roaming clients' });
  }
  return flows;
}

function storeProtocolsFor(pool: PoolTier): FlowPort[] {
  const protocols = pool.pool.spec.protocols as readonly string[];
  const ports: FlowPort[] = [];
  if (protocols.includes('imap') || protocols.includes('imaps')) ports.push(tcp('imap'));
  if (protocols.includes('pop3') || protocols.includes('pop3s')) ports.push(tcp('pop3'));
  return ports;
}

function outboundEgressToInternet(site: Site, relay: RelayTier): Flow {
  const { smarthost, routes } = relay.relay.spec;
  const ports = new Set<number>([smarthost ? smarthost.port : 25]);
  for (const route of routes ?? []) ports.add(route.to.port);
  return {
    from: tierEnd(relay),
    to: internetEnd(site),
    ports: [...ports].sort((a, b) => a - b).map((p) => external(p, p === 25 ? 'smtp' : `smtp-${p}`)),
    purpose: smarthost ? `relay through the smarthost ${smarthost.host}` : 'deliver to the internet by MX',
  };
}

/** What the inbound and outbound relays share: stores by LMTP, legacy users by the gateway, the directory. */
function localDeliveryFlows(site: Site, relay: RelayTier, gateways: readonly RelayTier[]): Flow[] {
  return [
    { from: tierEnd(relay), to: tierEnd(site.store), ports: [tcp('lmtp')], purpose: 'deliver to mailboxes' },
    ...gateways.map((gw) => ({
      from: tierEnd(relay),
      to: tierEnd(gw),
      ports: [tcp('smtp')],
      purpose: 'mail for legacy users',
    })),
    directoryFlow(site, relay),
  ];
}

/** Every flow of the site, in a stable order. */
export function siteFlows(site: Site): Flow[] {
  const flows: Flow[] = [];
  const inbound = relaysWithRole(site, 'inbound');
  const outbound = relaysWithRole(site, 'outbound');
  const gateways = relaysWithRole(site, 'gateway');
  const network = site.topology.spec.network;
  const legacyEnds = network.legacySystems.map((l) => ({
    system: l,
    end: { kind: 'zone', zone: `legacy:${l.name}`, peers: ipBlocks(l.cidrs) } as FlowEnd,
  }));

  for (const edge of relaysWithRole(site, 'internet')) {
    flows.push({
      from: internetEnd(site),
      to: tierEnd(edge),
      ports: [tcp('smtp')],
      purpose: 'mail from the internet',
    });
    for (const next of inbound) {
      flows.push({
        from: tierEnd(edge),
        to: tierEnd(next),
        ports: [tcp('smtp')],
        purpose: 'hand accepted mail inward',
      });
    }
  }
  for (const relay of inbound) {
    for (const { end } of legacyEnds) {
      flows.push({
        from: end,
        to: tierEnd(relay),
        ports: [tcp('smtp')],
        purpose: 'legacy systems deliver to migrated users',
      });
    }
    flows.push(...localDeliveryFlows(site, relay, gateways));
    // Forwarding to outside addresses and bounces to outside senders leave through the outbound
    // tier, the only one the firewall lets out (the inbound config's outboundRelay).
    for (const out of outbound.slice(0, 1)) {
      flows.push({
        from: tierEnd(relay),
        to: tierEnd(out),
        ports: [tcp('smtp')],
        purpose: 'mail for the outside (forwarding, bounces)',
      });
    }
  }
  for (const relay of outbound) {
    if (relay.relay.spec.submission.acceptFromClients) {
      for (const zone of network.clientZones) {
        const ports = (['submission', 'submissions'] as const)
          .filter((p) => allowed(zone, p))
          .map((p) => tcp(p));
        if (ports.length > 0) {
          flows.push({
            from: clientZoneEnd(zone),
            to: tierEnd(relay),
            ports,
            purpose: 'clients submit mail',
          });
        }
      }
    }
    for (const pool of site.pools.filter((p) => p.smtpProxyTarget === relay)) {
      flows.push({
        from: tierEnd(pool),
        to: tierEnd(relay),
        ports: [tcp('submission')],
        purpose: 'proxied submission (XCLIENT)',
      });
    }
    flows.push(...localDeliveryFlows(site, relay, gateways));
    flows.push(outboundEgressToInternet(site, relay));
  }
  for (const gw of gateways) {
    for (const { system, end } of legacyEnds) {
      flows.push({
        from: tierEnd(gw),
        to: end,
        ports: system.ports.map((p) => external(p, 'smtp')),
        purpose: `relay to ${system.name}`,
      });
    }
  }
  for (const pool of site.pools) {
    flows.push(...poolIngress(site, pool));
    const storePorts = storeProtocolsFor(pool);
    if (storePorts.length > 0) {
      flows.push({
        from: tierEnd(pool),
        to: tierEnd(site.store),
        ports: storePorts,
        purpose: "proxy to the user's store",
      });
    }
    flows.push(directoryFlow(site, pool));
  }
  return flows;
}

/** DNS and metrics: flows every tier has, kept apart so diagrams can leave them out. */
export function infrastructureFlows(site: Site, tiers: readonly Tier[]): Flow[] {
  const network = site.topology.spec.network;
  const dns: FlowEnd = {
    kind: 'zone',
    zone: 'dns',
    peers: [
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': network.dns.namespace } },
        podSelector: { matchLabels: { ...network.dns.podLabels } },
      },
    ],
  };
  const flows: Flow[] = [];
  for (const tier of tiers) {
    flows.push({
      from: tierEnd(tier),
      to: dns,
      ports: [
        { port: 53, wellKnown: 53, protocol: 'UDP', label: 'dns' },
        { port: 53, wellKnown: 53, protocol: 'TCP', label: 'dns' },
      ],
      purpose: 'resolve names',
    });
    if (network.monitoringNamespaceSelector) {
      flows.push({
        from: {
          kind: 'zone',
          zone: 'monitoring',
          peers: [{ namespaceSelector: network.monitoringNamespaceSelector }],
        },
        to: tierEnd(tier),
        ports: [tcp('http')],
        purpose: 'scrape metrics',
      });
    }
  }
  return flows;
}
