// Every kind the operator reads or writes, with where it lives in the API. A fixed table instead of
// discovery: the operator manages a known set of kinds, and a table is pure and testable. mtopo's
// own kinds come from api/kinds.ts (the table the CRDs are generated from), so a plural is written
// once.
import type { KubernetesObject } from '@kubernetes/client-node';
import { GROUP, KINDS, VERSION } from '../../api/kinds.ts';

export interface ResourceType {
  readonly kind: string;
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

/** The built-in kinds (and cert-manager's Certificate) the operator touches. */
const builtIn = [
  { kind: 'ConfigMap', group: '', version: 'v1', plural: 'configmaps', namespaced: true },
  { kind: 'Secret', group: '', version: 'v1', plural: 'secrets', namespaced: true },
  { kind: 'Service', group: '', version: 'v1', plural: 'services', namespaced: true },
  { kind: 'ServiceAccount', group: '', version: 'v1', plural: 'serviceaccounts', namespaced: true },
  { kind: 'Event', group: '', version: 'v1', plural: 'events', namespaced: true },
  // Read by the CLI only (`mtopo route` finds a Ready pod to ask); the operator never watches pods.
  { kind: 'Pod', group: '', version: 'v1', plural: 'pods', namespaced: true },
  { kind: 'StatefulSet', group: 'apps', version: 'v1', plural: 'statefulsets', namespaced: true },
  { kind: 'Deployment', group: 'apps', version: 'v1', plural: 'deployments', namespaced: true },
  {
    kind: 'NetworkPolicy',
    group: 'networking.k8s.io',
    version: 'v1',
    plural: 'networkpolicies',
    namespaced: true,
  },
  {
    kind: 'PodDisruptionBudget',
    group: 'policy',
    version: 'v1',
    plural: 'poddisruptionbudgets',
    namespaced: true,
  },
  { kind: 'Lease', group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespaced: true },
  { kind: 'Certificate', group: 'cert-manager.io', version: 'v1', plural: 'certificates', namespaced: true },
] as const satisfies readonly ResourceType[];

export const OWN_RESOURCES: readonly ResourceType[] = KINDS.map((k) => ({
  kind: k.kind,
  group: GROUP,
  version: VERSION,
  plural: k.plural,
  namespaced: true,
}));

export type Kind = (typeof builtIn)[number]['kind'] | (typeof KINDS)[number]['kind'];
export const RESOURCES: ReadonlyMap<string, ResourceType> = new Map(
  [...OWN_RESOURCES, ...builtIn].map((r) => [r.kind, r]),
);

export function resourceOf(kind: string): ResourceType {
  const type = RESOURCES.get(kind);
  if (!type) throw new Error(`mtopo does not manage objects of kind ${kind}`);
  return type;
}

export function apiVersionOf(type: ResourceType): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

/** The collection path: /apis/apps/v1/namespaces/mail/statefulsets, or all namespaces without one. */
export function collectionPath(type: ResourceType, namespace?: string): string {
  const prefix = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
  return type.namespaced && namespace
    ? `${prefix}/namespaces/${encodeURIComponent(namespace)}/${type.plural}`
    : `${prefix}/${type.plural}`;
}

export function objectPath(type: ResourceType, namespace: string | undefined, name: string): string {
  return `${collectionPath(type, namespace)}/${encodeURIComponent(name)}`;
}

export function objectKey(o: KubernetesObject): string {
  return `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}
