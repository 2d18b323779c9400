// What the end-to-end suite tries on the real enforcer, derived from the firewall model (the flow list
// `mtopo plan` prints), not from the NetworkPolicies rendered from it: every admitted flow must
// connect, and every other pair of ends must be refused on every port the destination listens on.
//
// Closed probes aim only at ports the destination really listens on, so a refusal proves the wall
// and not an empty port. Pods of one tier probing each other are left out: a Service may route a
// pod's connection back to itself, which no policy governs.
import { PORTS } from '../../images/lib/contract/ports.ts';
import type { Flow, FlowEnd } from '../../operator/src/render/firewall/flows.ts';
import { allTiers, type Site, type Tier } from '../../operator/src/render/site.ts';
import { poolPorts, relayPorts, STORE_PORTS } from '../../operator/src/render/tier-ports.ts';

/** A tier by its child objects' name, or an outside zone: internet, directory, legacy:x, clients:x. */
export type ProbeEnd =
  { readonly kind: 'tier'; readonly name: string } | { readonly kind: 'zone'; readonly name: string };

export interface Probe {
  readonly from: ProbeEnd;
  readonly to: ProbeEnd;
  readonly port: number;
  /** The port's name (smtp, lmtp, ldap…), for reports. */
  readonly label: string;
  readonly expect: 'open' | 'closed';
  /** Why it is open: the flow's purpose; empty for closed probes. */
  readonly purpose: string;
}

const endOf = (end: FlowEnd): ProbeEnd =>
  end.kind === 'tier' ? { kind: 'tier', name: end.tier.name } : { kind: 'zone', name: end.zone };

const sameEnd = (a: ProbeEnd, b: ProbeEnd): boolean => a.kind === b.kind && a.name === b.name;

export const endLabel = (end: ProbeEnd): string => (end.kind === 'tier' ? end.name : `(${end.name})`);

interface PortOf {
  readonly port: number;
  readonly label: string;
}

/** The container ports a tier's pods listen on: its Service ports, metrics, and what flows reach. */
function listeningPorts(tier: Tier, flows: readonly Flow[]): PortOf[] {
  const keys = tier.role === 'store' ? STORE_PORTS : tier.role === 'mmp' ? poolPorts(tier) : relayPorts(tier);
  const ports = new Map<number, string>();
  for (const key of [...keys, 'http' as const]) ports.set(PORTS[key].container, key);
  for (const flow of flows) {
    if (flow.to.kind !== 'tier' || flow.to.tier.name !== tier.name) continue;
    for (const p of flow.ports) if (p.protocol === 'TCP') ports.set(p.port, p.label);
  }
  return [...ports].map(([port, label]) => ({ port, label })).sort((a, b) => a.port - b.port);
}

/** Outside zones the site's tiers may send to, each with the ports some flow names for it. */
function zoneDestinations(flows: readonly Flow[]): Map<string, PortOf[]> {
  const zones = new Map<string, Map<number, string>>();
  for (const flow of flows) {
    if (flow.to.kind !== 'zone') continue;
    const ports = zones.get(flow.to.zone) ?? new Map<number, string>();
    for (const p of flow.ports) if (p.protocol === 'TCP') ports.set(p.port, p.label);
    zones.set(flow.to.zone, ports);
  }
  return new Map(
    [...zones].map(([zone, ports]) => [zone, [...ports].map(([port, label]) => ({ port, label }))]),
  );
}

/** Outside zones that may open connections to the site (and so must be tried as sources). */
function zoneSources(site: Site, flows: readonly Flow[]): string[] {
  const names = new Set<string>(['internet']);
  for (const zone of site.topology.spec.network.clientZones) names.add(`clients:${zone.name}`);
  for (const system of site.topology.spec.network.legacySystems) names.add(`legacy:${system.name}`);
  for (const flow of flows) if (flow.from.kind === 'zone') names.add(flow.from.zone);
  // Monitoring reaches pods by namespace, not from an outside address: not probed from outside.
  names.delete('monitoring');
  return [...names].sort();
}

function admittingFlow(flows: readonly Flow[], from: ProbeEnd, to: ProbeEnd, port: number): Flow | undefined {
  return flows.find(
    (flow) =>
      sameEnd(endOf(flow.from), from) &&
      sameEnd(endOf(flow.to), to) &&
      flow.ports.some((p) => p.protocol === 'TCP' && p.port === port),
  );
}

/**
 * Every probe for a site: tiers and outside zones as sources; tiers (on every port they listen on)
 * and outside zones (on the ports some flow names) as destinations. Zone to zone is not the site's
 * wall and is left out.
 */
export function probePlan(site: Site, flows: readonly Flow[]): Probe[] {
  const tiers = allTiers(site);
  const sources: ProbeEnd[] = [
    ...tiers.map((t): ProbeEnd => ({ kind: 'tier', name: t.name })),
    ...zoneSources(site, flows).map((name): ProbeEnd => ({ kind: 'zone', name })),
  ];
  const destinations: { end: ProbeEnd; ports: PortOf[] }[] = [
    ...tiers.map((t) => ({
      end: { kind: 'tier', name: t.name } as ProbeEnd,
      ports: listeningPorts(t, flows),
    })),
    ...[...zoneDestinations(flows)].map(([name, ports]) => ({
      end: { kind: 'zone', name } as ProbeEnd,
      ports,
    })),
  ];
  const probes: Probe[] = [];
  for (const from of sources) {
    for (const { end: to, ports } of destinations) {
      if (sameEnd(from, to) || (from.kind === 'zone' && to.kind === 'zone')) continue;
      for (const { port, label } of ports) {
        const flow = admittingFlow(flows, from, to, port);
        probes.push({
          from,
          to,
          port,
          label,
          expect: flow ? 'open' : 'closed',
          purpose: flow?.purpose ?? '',
        });
      }
    }
  }
  return probes;
}
