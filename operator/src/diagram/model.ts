// The picture before it is drawn: areas (the network zones and the firewall bands between them), nodes
// (tiers, the load balancers in front of them, the external zones) and edges (the allowed flows, merged
// per pair of ends). Mermaid and Graphviz both draw this model, so the two pictures always agree with
// each other and with the firewall model they come from. Pure: the same site and flows give the same
// model, in the same order.
import { parseLdapUrl } from '../../../images/lib/contract/ldap-url.ts';
import type { Flow, FlowEnd, FlowPort } from '../render/firewall/flows.ts';
import { exposureOf } from '../render/exposure.ts';
import { allTiers, publishedHostnames, type Site, type Tier, type TierRole } from '../render/site.ts';

/** Where an area sits, left to right: outside, between the walls, inside, and the services behind. */
export type Band = 'outside' | 'perimeter' | 'inside' | 'behind';

export type AreaId =
  'internet' | 'clients' | 'dmz' | 'access' | 'internal' | 'directory' | 'legacy' | 'cluster' | 'other';

/** The colour family an area is drawn in. */
export type Palette = 'external' | 'dmz' | 'internal' | 'access';

export interface Area {
  readonly id: AreaId;
  readonly title: string;
  readonly band: Band;
  readonly palette: Palette;
}

export const AREAS: readonly Area[] = [
  { id: 'internet', title: 'Internet', band: 'outside', palette: 'external' },
  { id: 'clients', title: 'Client networks', band: 'outside', palette: 'external' },
  { id: 'dmz', title: 'DMZ', band: 'perimeter', palette: 'dmz' },
  { id: 'access', title: 'Client access', band: 'perimeter', palette: 'access' },
  { id: 'internal', title: 'Internal network', band: 'inside', palette: 'internal' },
  { id: 'directory', title: 'Directory', band: 'behind', palette: 'external' },
  { id: 'legacy', title: 'Legacy systems', band: 'behind', palette: 'external' },
  { id: 'cluster', title: 'Cluster services', band: 'behind', palette: 'external' },
  { id: 'other', title: 'Other peers', band: 'behind', palette: 'external' },
];

/** The two walls of the classic picture: outer between outside and perimeter, inner before the inside. */
export type Wall = 'outer' | 'inner';

export const WALL_TITLES: Record<Wall, string> = { outer: 'outer firewall', inner: 'inner firewall' };

export type NodeKind = 'tier' | 'balancer' | 'external';

/** A hint for the shape: what the node is, not how a renderer draws it. */
export type NodeShape =
  'mta' | 'store' | 'mmp' | 'balancer' | 'internet' | 'clients' | 'directory' | 'legacy' | 'peer';

export interface DiagramNode {
  /** Safe in Mermaid and DOT: starts with a letter, then letters, digits and underscores. */
  readonly id: string;
  readonly kind: NodeKind;
  readonly area: AreaId;
  readonly shape: NodeShape;
  /** The first line, the name people look for. */
  readonly title: string;
  /** Further lines: role and replicas, host names, address ranges. */
  readonly details: readonly string[];
  /** The tier, for tier nodes and for balancers (the tier behind it). */
  readonly tier?: Tier;
  /** The external zone name as the firewall model says it: internet, directory, legacy:<name>… */
  readonly zone?: string;
}

export type EdgeKind = 'flow' | 'balancer';

export interface DiagramEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: EdgeKind;
  /** The ports of every flow drawn as this edge, without repeats, in the order the flows give them. */
  readonly ports: readonly FlowPort[];
  /** The ports as people say them, one protocol family a line: "25 smtp", "143/993 imap". */
  readonly label: readonly string[];
  /** Why the flows exist. */
  readonly purposes: readonly string[];
  /** The flows this edge draws (a balancer edge draws the part behind the balancer). */
  readonly flows: readonly Flow[];
  /** The walls the edge passes, in the order it passes them. */
  readonly walls: readonly Wall[];
}

export interface DiagramModel {
  readonly title: string;
  /** Areas that have at least one node, in drawing order. */
  readonly areas: readonly Area[];
  readonly nodes: readonly DiagramNode[];
  readonly edges: readonly DiagramEdge[];
  readonly legend: readonly string[];
  readonly hostnames: { readonly mx: string; readonly clients: string };
}

export const DEFAULT_DENY_NOTE =
  'Only the flows drawn here are allowed: everything else is blocked by default-deny NetworkPolicies.';

const ROLE_TEXT: Record<TierRole, string> = {
  internet: 'internet MTA',
  inbound: 'inbound MTA',
  outbound: 'outbound MTA',
  gateway: 'gateway MTA',
  store: 'message store',
  mmp: 'MMP',
};

const ROLE_ORDER: readonly TierRole[] = ['internet', 'mmp', 'inbound', 'outbound', 'gateway', 'store'];

const AREA_OF_ZONE: Record<Tier['zone'], AreaId> = { dmz: 'dmz', internal: 'internal', access: 'access' };

/** Letters, digits and underscores only, never a keyword of either language (the prefix sees to that). */
export function safeId(prefix: string, name: string): string {
  return `${prefix}_${name.toLowerCase().replace(/[^a-z0-9]+/g, '_')}`;
}

function areaOfZone(zone: string): AreaId {
  if (zone === 'internet') return 'internet';
  if (zone === 'directory') return 'directory';
  if (zone.startsWith('legacy:')) return 'legacy';
  if (zone.startsWith('clients:')) return 'clients';
  if (zone === 'dns' || zone === 'monitoring') return 'cluster';
  return 'other';
}

function shapeOfZone(zone: string): NodeShape {
  const area = areaOfZone(zone);
  if (area === 'internet') return 'internet';
  if (area === 'clients') return 'clients';
  if (area === 'directory') return 'directory';
  if (area === 'legacy') return 'legacy';
  return 'peer';
}

/** At most a few ranges, so a long list does not swamp the picture. */
function summarize(items: readonly string[], max = 3): string[] {
  if (items.length <= max) return [...items];
  return [...items.slice(0, max - 1), `+${items.length - max + 1} more`];
}

function zoneText(site: Site, zone: string): { title: string; details: string[] } {
  const network = site.topology.spec.network;
  if (zone === 'internet') {
    const cut = network.clusterCIDRs.length > 0 ? ['except internal ranges'] : [];
    return { title: 'internet', details: [summarize(network.internetCIDRs).join(' '), ...cut] };
  }
  if (zone === 'directory') {
    const { directory } = site.topology.spec;
    const hosts = directory.urls.map((u) => parseLdapUrl(u)?.host ?? u);
    return {
      title: 'directory (LDAP)',
      details: [...summarize(hosts, 2), summarize(directory.cidrs).join(' ')],
    };
  }
  if (zone.startsWith('legacy:')) {
    const name = zone.slice('legacy:'.length);
    const system = network.legacySystems.find((l) => l.name === name);
    return {
      title: name,
      details: ['legacy mail system', ...(system ? [summarize(system.cidrs).join(' ')] : [])],
    };
  }
  if (zone.startsWith('clients:')) {
    const name = zone.slice('clients:'.length);
    const client = network.clientZones.find((z) => z.name === name);
    const details = ['clients'];
    if (client?.cidrs && client.cidrs.length > 0) details.push(summarize(client.cidrs).join(' '));
    if (client?.namespaceSelector) {
      const labels = Object.entries(client.namespaceSelector.matchLabels ?? {})
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => `${k}=${v}`);
      details.push(labels.length > 0 ? `namespaces ${labels.join(',')}` : 'all namespaces');
    }
    return { title: name, details };
  }
  if (zone === 'dns') return { title: 'cluster DNS', details: [network.dns.namespace] };
  if (zone === 'monitoring') return { title: 'monitoring', details: ['metrics scrapers'] };
  return { title: zone, details: [] };
}

/** The order external zones are listed in: as the topology declares them, not as flows mention them. */
function zoneRank(site: Site, zone: string): [number, number] {
  const network = site.topology.spec.network;
  const areaIndex = AREAS.findIndex((a) => a.id === areaOfZone(zone));
  if (zone.startsWith('clients:')) {
    return [areaIndex, network.clientZones.findIndex((z) => `clients:${z.name}` === zone)];
  }
  if (zone.startsWith('legacy:')) {
    return [areaIndex, network.legacySystems.findIndex((l) => `legacy:${l.name}` === zone)];
  }
  return [areaIndex, 0];
}

const FAMILY: Record<string, string> = {
  imaps: 'imap',
  pop3s: 'pop3',
  submissions: 'submission',
  ldaps: 'ldap',
};

function familyOf(label: string): string {
  if (/^smtp-[0-9]+$/.test(label)) return 'smtp';
  return FAMILY[label] ?? label;
}

/** "25 smtp", "143/993 imap", "636 ldaps", "53 dns (TCP+UDP)": one line per protocol family. */
export function portLines(ports: readonly FlowPort[]): string[] {
  const groups = new Map<string, FlowPort[]>();
  for (const port of ports) {
    const family = familyOf(port.label);
    const group = groups.get(family);
    if (group) group.push(port);
    else groups.set(family, [port]);
  }
  const lines: string[] = [];
  for (const [family, group] of groups) {
    const numbers = [...new Set(group.map((p) => p.wellKnown))];
    const labels = [...new Set(group.map((p) => p.label))];
    const protocols = [...new Set(group.map((p) => p.protocol))].sort();
    const name = labels.length === 1 ? (labels[0] ?? family) : family;
    const transport = protocols.length === 1 && protocols[0] === 'TCP' ? '' : ` (${protocols.join('+')})`;
    lines.push(`${numbers.join('/')} ${name}${transport}`);
  }
  return lines;
}

function mergePorts(into: FlowPort[], ports: readonly FlowPort[]): void {
  for (const port of ports) {
    if (!into.some((p) => p.port === port.port && p.protocol === port.protocol && p.label === port.label)) {
      into.push(port);
    }
  }
}

const BAND_INDEX: Record<Band, number> = { outside: 0, perimeter: 1, inside: 2, behind: 3 };

/** The walls between two areas: the outer wall stands between outside and perimeter, the inner wall
 * between perimeter and inside. Services behind the inside (directory, legacy) are reached from the
 * inside without another wall of this picture. */
export function wallsBetween(from: Area, to: Area): Wall[] {
  const a = Math.min(BAND_INDEX[from.band], 2);
  const b = Math.min(BAND_INDEX[to.band], 2);
  const walls: Wall[] = [];
  const lo = Math.min(a, b);
  const hi = Math.max(a, b);
  if (lo === 0 && hi >= 1) walls.push('outer');
  if (lo <= 1 && hi === 2) walls.push('inner');
  return a <= b ? walls : walls.reverse();
}

export interface ModelOptions {
  /** Title of the picture; default "Messaging topology <name> (namespace <ns>)". */
  readonly title?: string;
}

export function buildModel(site: Site, flows: readonly Flow[], options: ModelOptions = {}): DiagramModel {
  const hostnames = publishedHostnames(site);
  const nodes: DiagramNode[] = [];
  const taken = new Set<string>();
  const unique = (id: string) => {
    let candidate = id;
    for (let n = 2; taken.has(candidate); n++) candidate = `${id}_${n}`;
    taken.add(candidate);
    return candidate;
  };

  // Tiers, each area in role order, and a balancer before each tier published by a load balancer.
  const tierIds = new Map<string, string>();
  const balancerIds = new Map<string, string>();
  const tiers = allTiers(site).sort(
    (a, b) =>
      ROLE_ORDER.indexOf(a.role) - ROLE_ORDER.indexOf(b.role) ||
      (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  for (const tier of tiers) {
    const area = AREA_OF_ZONE[tier.zone];
    // The published name goes on the load balancer when there is one, else on the tier itself.
    const published =
      tier.role === 'internet'
        ? [`MX ${hostnames.mx}`]
        : tier.role === 'mmp'
          ? [hostnames.clients]
          : tier.role === 'outbound'
            ? ['submission']
            : [];
    const balanced = exposureOf(tier).serviceType === 'LoadBalancer';
    if (balanced) {
      const id = unique(safeId('lb', tier.name));
      balancerIds.set(tier.name, id);
      nodes.push({
        id,
        kind: 'balancer',
        area,
        shape: 'balancer',
        title: 'load balancer',
        details: published,
        tier,
      });
    }
    const id = unique(safeId('tier', tier.name));
    tierIds.set(tier.name, id);
    const role = ROLE_TEXT[tier.role];
    const extra: string[] = [];
    const pool = site.pools.find((p) => p.name === tier.name);
    if (pool?.smtpProxyTarget) extra.push('+ SMTP submission proxy');
    if (!balanced && tier.role !== 'outbound') extra.push(...published);
    nodes.push({
      id,
      kind: 'tier',
      area,
      shape: tier.role === 'store' ? 'store' : tier.role === 'mmp' ? 'mmp' : 'mta',
      title: tier.name,
      details: [`${role} ×${tier.replicas}`, ...extra],
      tier,
    });
  }

  // External zones that the flows mention, in the order the topology declares them.
  const zones = new Map<string, string>();
  const zoneNames: string[] = [];
  for (const flow of flows) {
    for (const end of [flow.from, flow.to]) {
      if (end.kind === 'zone' && !zoneNames.includes(end.zone)) zoneNames.push(end.zone);
    }
  }
  const ranked = zoneNames
    .map((zone, seen) => ({ zone, rank: [...zoneRank(site, zone), seen] }))
    .sort((a, b) => a.rank[0]! - b.rank[0]! || a.rank[1]! - b.rank[1]! || a.rank[2]! - b.rank[2]!);
  for (const { zone } of ranked) {
    const id = unique(safeId('zone', zone));
    zones.set(zone, id);
    const text = zoneText(site, zone);
    nodes.push({ id, kind: 'external', area: areaOfZone(zone), shape: shapeOfZone(zone), ...text, zone });
  }

  const nodeById = new Map(nodes.map((n) => [n.id, n]));
  const areaById = new Map(AREAS.map((a) => [a.id, a]));
  const idOf = (end: FlowEnd): string => {
    const id = end.kind === 'tier' ? tierIds.get(end.tier.name) : zones.get(end.zone);
    if (id === undefined) {
      throw new Error(
        `the flow model names ${end.kind === 'tier' ? `tier ${end.tier.name}` : `zone ${end.zone}`}, which the site does not have`,
      );
    }
    return id;
  };

  // Edges: flows from outside the cluster to a tier with a load balancer enter through the balancer;
  // parallel flows between the same two ends become one edge.
  interface Draft {
    from: string;
    to: string;
    kind: EdgeKind;
    ports: FlowPort[];
    purposes: string[];
    flows: Flow[];
  }
  const drafts = new Map<string, Draft>();
  const add = (from: string, to: string, kind: EdgeKind, flow: Flow, purpose: string) => {
    const key = `${from}>${to}`;
    let draft = drafts.get(key);
    if (!draft) {
      draft = { from, to, kind, ports: [], purposes: [], flows: [] };
      drafts.set(key, draft);
    }
    mergePorts(draft.ports, flow.ports);
    if (!draft.purposes.includes(purpose)) draft.purposes.push(purpose);
    draft.flows.push(flow);
  };
  for (const flow of flows) {
    const from = idOf(flow.from);
    const to = idOf(flow.to);
    const balancer =
      flow.from.kind === 'zone' && flow.to.kind === 'tier' ? balancerIds.get(flow.to.tier.name) : undefined;
    if (balancer) {
      add(from, balancer, 'flow', flow, flow.purpose);
      add(balancer, to, 'balancer', flow, 'spread connections over the replicas');
    } else {
      add(from, to, 'flow', flow, flow.purpose);
    }
  }

  const edges: DiagramEdge[] = [...drafts.values()].map((d) => {
    const fromArea = areaById.get(nodeById.get(d.from)!.area)!;
    const toArea = areaById.get(nodeById.get(d.to)!.area)!;
    let label = portLines(d.ports);
    if (d.kind === 'balancer') {
      const tier = nodeById.get(d.to)?.tier;
      const proxy = tier ? exposureOf(tier).proxyProtocol : 'none';
      label = proxy === 'none' ? [] : [`PROXY ${proxy}`];
    }
    return { ...d, label, walls: wallsBetween(fromArea, toArea) };
  });

  const used = new Set(nodes.map((n) => n.area));
  const name = site.topology.metadata.name;
  return {
    title: options.title ?? `Messaging topology ${name} (namespace ${site.namespace})`,
    areas: AREAS.filter((a) => used.has(a.id)),
    nodes,
    edges,
    legend: legendLines(site, hostnames),
    hostnames,
  };
}

function legendLines(site: Site, hostnames: { mx: string; clients: string }): string[] {
  const lines = [DEFAULT_DENY_NOTE];
  if (site.relays.some((r) => r.role === 'internet')) {
    lines.push(`The MX record ${hostnames.mx} points at the internet-facing MTAs, never at an MMP.`);
  }
  if (site.pools.length > 0) lines.push(`Mail clients connect to ${hostnames.clients}: the MMP pool.`);
  return lines;
}

/** The node a flow end is drawn as. */
export function nodeOfEnd(model: DiagramModel, end: FlowEnd): DiagramNode | undefined {
  return model.nodes.find((n) =>
    end.kind === 'tier'
      ? n.kind === 'tier' && n.tier?.name === end.tier.name
      : n.kind === 'external' && n.zone === end.zone,
  );
}
