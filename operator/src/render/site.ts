// A site is one topology with the relays and pools that point at it, resolved into tiers: the
// shape every builder (workloads, services, configs, firewall, diagram) reads. Resolving once keeps
// defaults and cross-object decisions (which outbound relay an MMP proxy uses, which mailHost names a
// store answers to) in one place.
import type { MessagingTopology } from '../api/messaging-topology.ts';
import type { MMPPool } from '../api/mmp-pool.ts';
import type { MTARelay, MTARole } from '../api/mta-relay.ts';
import type { DefaultImages } from './images.ts';

export type TierRole = MTARole | 'store' | 'mmp';
export type Zone = 'dmz' | 'internal' | 'access';

/** A custom resource, by kind and name: who a tier, a warning or an apply error belongs to. */
export interface OwnerRef {
  readonly kind: 'MessagingTopology' | 'MTARelay' | 'MMPPool';
  readonly name: string;
}

/** A problem found while rendering or applying, addressed to the resource that can fix it. */
export interface Finding {
  readonly owner: OwnerRef;
  readonly message: string;
}

interface TierBase {
  /** Name of the child objects (StatefulSet, Service, ConfigMap…): "edge-mta", "siroe-store". */
  readonly name: string;
  readonly zone: Zone;
  readonly replicas: number;
}

export interface StoreTier extends TierBase {
  readonly role: 'store';
  readonly owner: OwnerRef & { readonly kind: 'MessagingTopology' };
}
export interface RelayTier extends TierBase {
  readonly role: MTARole;
  readonly owner: OwnerRef & { readonly kind: 'MTARelay' };
  readonly relay: MTARelay;
}
export interface PoolTier extends TierBase {
  readonly role: 'mmp';
  readonly owner: OwnerRef & { readonly kind: 'MMPPool' };
  readonly pool: MMPPool;
  /** The outbound relay tier its SMTP proxy hands mail to, when the proxy is enabled. */
  readonly smtpProxyTarget: RelayTier | undefined;
}

/** One tier of a site, told apart by `role`: what it is decides what else it carries. */
export type Tier = StoreTier | RelayTier | PoolTier;

export interface Site {
  readonly topology: MessagingTopology;
  readonly namespace: string;
  readonly store: StoreTier;
  /** Sorted by name, so output never depends on the order resources were listed or watched. */
  readonly relays: readonly RelayTier[];
  readonly pools: readonly PoolTier[];
  /** The operator's default images (its flags); spec.images overrides each. */
  readonly defaultImages?: DefaultImages;
}

export interface SiteResolution {
  site: Site;
  /** Things that make the site incomplete or unsafe but do not stop rendering. */
  warnings: Finding[];
}

const ZONE_OF_ROLE: Record<TierRole, Zone> = {
  internet: 'dmz',
  inbound: 'internal',
  outbound: 'internal',
  gateway: 'internal',
  store: 'internal',
  mmp: 'access',
};

export function storeTierName(topologyName: string): string {
  return `${topologyName}-store`;
}

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export function resolveSite(
  topology: MessagingTopology,
  relays: readonly MTARelay[],
  pools: readonly MMPPool[],
): SiteResolution {
  const warnings: Finding[] = [];
  const warn = (owner: OwnerRef, message: string) => warnings.push({ owner, message });
  const name = topology.metadata.name;
  const namespace = topology.metadata.namespace ?? 'default';
  const ours = <
    T extends { spec: { topologyRef: { name: string } }; metadata: { namespace?: string | undefined } },
  >(
    o: T,
  ) => o.spec.topologyRef.name === name && (o.metadata.namespace ?? namespace) === namespace;

  const relayTiers: RelayTier[] = relays
    .filter(ours)
    .map((relay) => ({
      name: `${relay.metadata.name}-mta`,
      role: relay.spec.role,
      zone: ZONE_OF_ROLE[relay.spec.role],
      replicas: relay.spec.replicas,
      owner: { kind: 'MTARelay' as const, name: relay.metadata.name },
      relay,
    }))
    .sort(byName);

  const outbound = relayTiers.filter((t) => t.role === 'outbound');
  const poolTiers: PoolTier[] = pools
    .filter(ours)
    .map((pool) => {
      let smtpProxyTarget: RelayTier | undefined;
      if (pool.spec.smtpProxy.enabled) {
        const ref = pool.spec.smtpProxy.outboundRef?.name;
        smtpProxyTarget = ref ? outbound.find((t) => t.owner.name === ref) : outbound[0];
        if (!smtpProxyTarget) {
          warn(
            { kind: 'MMPPool', name: pool.metadata.name },
            ref
              ? `MMPPool ${pool.metadata.name}: smtpProxy.outboundRef names "${ref}", which is not an outbound MTARelay of topology ${name}`
              : `MMPPool ${pool.metadata.name}: the SMTP proxy is enabled but topology ${name} has no outbound MTARelay to hand mail to`,
          );
        } else if (!ref && outbound.length > 1) {
          warn(
            { kind: 'MMPPool', name: pool.metadata.name },
            `MMPPool ${pool.metadata.name}: topology ${name} has ${outbound.length} outbound relays; the SMTP proxy uses ${smtpProxyTarget.owner.name} (set smtpProxy.outboundRef to choose)`,
          );
        }
      }
      const zones = new Set(topology.spec.network.clientZones.map((z) => z.name));
      for (const zone of pool.spec.access.zones ?? []) {
        if (!zones.has(zone)) {
          warn(
            { kind: 'MMPPool', name: pool.metadata.name },
            `MMPPool ${pool.metadata.name}: access.zones names "${zone}", which is not a client zone of topology ${name}`,
          );
        }
      }
      return {
        name: `${pool.metadata.name}-mmp`,
        role: 'mmp' as const,
        zone: ZONE_OF_ROLE.mmp,
        replicas: pool.spec.replicas,
        owner: { kind: 'MMPPool' as const, name: pool.metadata.name },
        pool,
        smtpProxyTarget,
      };
    })
    .sort(byName);

  const has = (role: MTARole) => relayTiers.some((t) => t.role === role);
  if (has('internet') && !has('inbound')) {
    warn(
      { kind: 'MessagingTopology', name },
      `topology ${name} has an internet-facing MTARelay but no inbound MTARelay to hand mail to`,
    );
  }
  const legacyPorts = new Set(topology.spec.network.legacySystems.flatMap((l) => l.ports));
  for (const tier of relayTiers.filter((t) => t.role === 'gateway')) {
    for (const route of tier.relay.spec.routes ?? []) {
      if (!legacyPorts.has(route.to.port)) {
        warn(
          tier.owner,
          `MTARelay ${tier.owner.name}: route to ${route.to.host}:${route.to.port} matches no port of network.legacySystems, so the firewall blocks it`,
        );
      }
    }
  }

  return {
    site: {
      topology,
      namespace,
      store: {
        name: storeTierName(name),
        role: 'store',
        zone: ZONE_OF_ROLE.store,
        replicas: topology.spec.stores.replicas,
        owner: { kind: 'MessagingTopology', name },
      },
      relays: relayTiers,
      pools: poolTiers,
    },
    warnings,
  };
}

export function allTiers(site: Site): Tier[] {
  return [site.store, ...site.relays, ...site.pools];
}

export function relaysWithRole(site: Site, role: MTARole): RelayTier[] {
  return site.relays.filter((t) => t.role === role);
}

/** The first hosted domain names the defaults for the published host names. */
export function publishedHostnames(site: Site): { mx: string; clients: string } {
  const { domains, publish } = site.topology.spec;
  const first = domains[0] ?? 'example.invalid';
  return { mx: publish.mxHostname ?? `mx.${first}`, clients: publish.clientHostname ?? `mail.${first}` };
}
