// One ConfigMap per tier holding the program's config.json.
import type { V1ConfigMap } from '@kubernetes/client-node';
import { tierLabels } from './labels.ts';
import type { Site, Tier } from './site.ts';

export function configMapName(tier: Tier): string {
  return `${tier.name}-config`;
}

export function renderConfigMap(site: Site, tier: Tier, json: string): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: configMapName(tier), namespace: site.namespace, labels: tierLabels(site, tier) },
    data: { 'config.json': json },
  };
}
