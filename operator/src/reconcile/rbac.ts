// The least the operator needs, written once: the Helm chart renders these rules and the
// integration tests run the operator as a ServiceAccount bound to exactly them. Derived from the
// kind tables: mtopo's own kinds (api/kinds.ts) are read and get status; the renderer's child kinds
// are managed in full.
import type { V1PolicyRule } from '@kubernetes/client-node';
import { CHILD_KINDS } from '../render/render.ts';
import { OWN_RESOURCES, resourceOf } from './kube/resources.ts';

const MANAGE = ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'];
const OWN_GROUPS = [...new Set(OWN_RESOURCES.map((r) => r.group))];

/** The child kinds by API group, both sorted, so the chart's rules read the same every time. */
function childRules(): V1PolicyRule[] {
  const byGroup = new Map<string, string[]>();
  for (const kind of CHILD_KINDS) {
    const { group, plural } = resourceOf(kind);
    byGroup.set(group, [...(byGroup.get(group) ?? []), plural]);
  }
  return [...byGroup]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([group, resources]) => ({ apiGroups: [group], resources: resources.sort(), verbs: MANAGE }));
}

export const OPERATOR_RULES: V1PolicyRule[] = [
  { apiGroups: OWN_GROUPS, resources: OWN_RESOURCES.map((r) => r.plural), verbs: ['get', 'list', 'watch'] },
  {
    apiGroups: OWN_GROUPS,
    resources: OWN_RESOURCES.map((r) => `${r.plural}/status`),
    verbs: ['get', 'patch', 'update'],
  },
  ...childRules(),
  // Secrets: the operator creates the internal one of each topology and reads none, so it holds no
  // permission that would let it see another Secret.
  { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
];

/** Leader election: the operator's own Lease, in its own namespace. */
export const LEADER_ELECTION_RULES: V1PolicyRule[] = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
];

/** The chart's `helm test` pod (kubectl wait for Ready on every topology in scope): read only. */
export const HELM_TEST_RULES: V1PolicyRule[] = [
  { apiGroups: ['mtopo.dev'], resources: ['messagingtopologies'], verbs: ['get', 'list', 'watch'] },
];
