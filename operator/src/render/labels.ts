// Labels: the recommended app.kubernetes.io set for people and tools, plus mtopo.dev/* for the
// firewall model. Selectors use only labels that never change for the life of a tier, because a
// StatefulSet's or Deployment's selector is immutable.
import type { Site, Tier, TierRole } from './site.ts';

export const MANAGED_BY = 'mtopo';
export const LABEL_TOPOLOGY = 'mtopo.dev/topology';
export const LABEL_TIER = 'mtopo.dev/tier';
export const LABEL_ROLE = 'mtopo.dev/role';
export const LABEL_ZONE = 'mtopo.dev/zone';
export const ANNOTATION_CONFIG_HASH = 'mtopo.dev/config-hash';

const COMPONENT: Record<TierRole, string> = {
  internet: 'mta',
  inbound: 'mta',
  outbound: 'mta',
  gateway: 'mta',
  store: 'store',
  mmp: 'mmp',
};

export function componentOf(role: TierRole): string {
  return COMPONENT[role];
}

/** Labels every object of a topology carries, so the operator can find and prune what it owns. */
export function topologyLabels(site: Site): Record<string, string> {
  return {
    'app.kubernetes.io/part-of': site.topology.metadata.name,
    'app.kubernetes.io/managed-by': MANAGED_BY,
    [LABEL_TOPOLOGY]: site.topology.metadata.name,
  };
}

/** The stable identity of a tier's pods: used in selectors and by the firewall. */
export function selectorLabels(site: Site, tier: Tier): Record<string, string> {
  return { [LABEL_TOPOLOGY]: site.topology.metadata.name, [LABEL_TIER]: tier.name };
}

export function tierLabels(site: Site, tier: Tier): Record<string, string> {
  return {
    'app.kubernetes.io/name': `mtopo-${componentOf(tier.role)}`,
    'app.kubernetes.io/instance': tier.name,
    'app.kubernetes.io/component': componentOf(tier.role),
    ...topologyLabels(site),
    [LABEL_TIER]: tier.name,
    [LABEL_ROLE]: tier.role,
    [LABEL_ZONE]: tier.zone,
  };
}
