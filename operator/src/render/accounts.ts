// ServiceAccounts and PodDisruptionBudgets: one of each per tier.
import type { V1PodDisruptionBudget, V1ServiceAccount } from '@kubernetes/client-node';
import { selectorLabels, tierLabels } from './labels.ts';
import type { Site, Tier } from './site.ts';

/** The programs never call the API server, so their pods get no token at all. */
export function renderServiceAccount(site: Site, tier: Tier): V1ServiceAccount {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: tier.name, namespace: site.namespace, labels: tierLabels(site, tier) },
    automountServiceAccountToken: false,
  };
}

/** Voluntary disruptions (node drains) take down at most one replica of a tier at a time. */
export function renderPodDisruptionBudget(site: Site, tier: Tier): V1PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: tier.name, namespace: site.namespace, labels: tierLabels(site, tier) },
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(site, tier) } },
  };
}
