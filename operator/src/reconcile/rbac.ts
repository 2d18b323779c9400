// The least the operator needs, written once: the Helm chart renders these rules and the
// integration tests run the operator as a ServiceAccount bound to exactly them.
import type { V1PolicyRule } from '@kubernetes/client-node';

export const OPERATOR_RULES: V1PolicyRule[] = [
  {
    apiGroups: ['mtopo.dev'],
    resources: ['messagingtopologies', 'mtarelays', 'mmppools'],
    verbs: ['get', 'list', 'watch'],
  },
  {
    apiGroups: ['mtopo.dev'],
    resources: ['messagingtopologies/status', 'mtarelays/status', 'mmppools/status'],
    verbs: ['get', 'patch', 'update'],
  },
  {
    apiGroups: [''],
    resources: ['configmaps', 'services', 'serviceaccounts'],
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'],
  },
  // Secrets: the operator creates the internal one of each topology and reads none, so it holds no
  // permission that would let it see another Secret.
  { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
  {
    apiGroups: ['apps'],
    resources: ['statefulsets', 'deployments'],
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'],
  },
  {
    apiGroups: ['networking.k8s.io'],
    resources: ['networkpolicies'],
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'],
  },
  {
    apiGroups: ['policy'],
    resources: ['poddisruptionbudgets'],
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'],
  },
  {
    apiGroups: ['cert-manager.io'],
    resources: ['certificates'],
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'],
  },
];

/** Leader election: the operator's own Lease, in its own namespace. */
export const LEADER_ELECTION_RULES: V1PolicyRule[] = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
];
