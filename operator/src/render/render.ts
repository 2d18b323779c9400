// The renderer: (topology, relays, pools) → the objects that make the site. Pure and deterministic:
// the same input gives the same objects in the same order, with no timestamps, so golden files,
// GitOps diffs and the operator's "nothing changed" check all hold.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { MessagingTopology } from '../api/messaging-topology.ts';
import type { MMPPool } from '../api/mmp-pool.ts';
import type { MTARelay } from '../api/mta-relay.ts';
import { renderPodDisruptionBudget, renderServiceAccount } from './accounts.ts';
import { renderCertificate } from './certificate.ts';
import { renderConfigMap } from './config-maps.ts';
import type { DefaultImages } from './images.ts';
import { renderNetworkPolicies } from './firewall/network-policies.ts';
import { poolConfig, relayConfig, serializeConfig, storeProgramConfig } from './program-configs.ts';
import { renderPoolServices, renderRelayServices, renderStoreServices } from './services.ts';
import { allTiers, resolveSite, type Finding, type Site } from './site.ts';
import { renderPoolDeployment, renderRelayStatefulSet, renderStoreStatefulSet } from './workloads.ts';

export interface RenderInput {
  topology: MessagingTopology;
  relays: readonly MTARelay[];
  pools: readonly MMPPool[];
  /** The operator's default image per program (its --default-image-* flags). */
  defaultImages?: DefaultImages;
}

export interface RenderOutput {
  site: Site;
  /** Children in apply order: what pods need (accounts, config, certificates) before the pods. */
  objects: KubernetesObject[];
  warnings: Finding[];
}

/**
 * Every kind the renderer produces, in apply order (the way kubectl and Helm order installs):
 * NetworkPolicies first so no pod ever runs unwalled, then what pods need, then the pods.
 */
export const CHILD_KINDS = [
  'NetworkPolicy',
  'ServiceAccount',
  'ConfigMap',
  'Certificate',
  'Service',
  'PodDisruptionBudget',
  'StatefulSet',
  'Deployment',
] as const;

export type ChildKind = (typeof CHILD_KINDS)[number];

export function renderSite(input: RenderInput): RenderOutput {
  const resolved = resolveSite(input.topology, input.relays, input.pools);
  const { warnings } = resolved;
  const site: Site = input.defaultImages
    ? { ...resolved.site, defaultImages: input.defaultImages }
    : resolved.site;
  const objects: KubernetesObject[] = [];

  const store = serializeConfig(storeProgramConfig(site));
  objects.push(renderConfigMap(site, site.store, store.json), renderStoreStatefulSet(site, store.hash));
  objects.push(...renderStoreServices(site));

  for (const tier of site.relays) {
    const config = serializeConfig(relayConfig(site, tier));
    objects.push(renderConfigMap(site, tier, config.json), renderRelayStatefulSet(site, tier, config.hash));
    objects.push(...renderRelayServices(site, tier));
  }
  for (const tier of site.pools) {
    const config = serializeConfig(poolConfig(site, tier));
    objects.push(renderConfigMap(site, tier, config.json), renderPoolDeployment(site, tier, config.hash));
    objects.push(...renderPoolServices(site, tier));
  }
  for (const tier of allTiers(site)) {
    objects.push(renderServiceAccount(site, tier), renderPodDisruptionBudget(site, tier));
  }
  objects.push(...renderNetworkPolicies(site));
  const certificate = renderCertificate(site);
  if (certificate) objects.push(certificate);

  const rank = (o: KubernetesObject) => CHILD_KINDS.indexOf(o.kind as ChildKind);
  const name = (o: KubernetesObject) => o.metadata?.name ?? '';
  objects.sort((a, b) => rank(a) - rank(b) || (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0));
  return { site, objects, warnings };
}
