// Evaluates NetworkPolicies the way the Kubernetes API defines them, so tests (and `mtopo`) can ask
// "may A reach B on port P?" of the rendered objects themselves rather than of the model they came
// from. Semantics (networking.k8s.io/v1): a pod is isolated in a direction when any policy selecting
// it lists that direction in policyTypes; traffic is then allowed when any rule of any selecting
// policy admits it; a connection needs egress allowed at the source and ingress at the destination.
import type { V1LabelSelector, V1NetworkPolicyPort } from '@kubernetes/client-node';
import { inCidr } from '../../../../images/lib/contract/cidr.ts';
import type { NetworkPolicy, NetworkPolicyPeer } from './policy-types.ts';

export interface PodEndpoint {
  kind: 'pod';
  namespace: string;
  labels: Record<string, string>;
  namespaceLabels: Record<string, string>;
  ip: string;
}

export interface ExternalEndpoint {
  kind: 'external';
  ip: string;
}

export type Endpoint = PodEndpoint | ExternalEndpoint;

export interface Connection {
  from: Endpoint;
  to: Endpoint;
  port: number;
  protocol: 'TCP' | 'UDP';
}

export function matchesSelector(
  selector: V1LabelSelector | undefined,
  labels: Record<string, string>,
): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const expr of selector.matchExpressions ?? []) {
    const has = expr.key in labels;
    const value = labels[expr.key];
    const values = expr.values ?? [];
    if (expr.operator === 'In' && !(has && values.includes(value as string))) return false;
    if (expr.operator === 'NotIn' && has && values.includes(value as string)) return false;
    if (expr.operator === 'Exists' && !has) return false;
    if (expr.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

function peerMatches(peer: NetworkPolicyPeer, policyNamespace: string, other: Endpoint): boolean {
  if (peer.ipBlock) {
    return (
      inCidr(other.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((e) => inCidr(other.ip, e))
    );
  }
  if (other.kind !== 'pod') return false;
  const namespaceOk = peer.namespaceSelector
    ? matchesSelector(peer.namespaceSelector, other.namespaceLabels)
    : other.namespace === policyNamespace;
  return namespaceOk && matchesSelector(peer.podSelector, other.labels);
}

function portMatches(ports: V1NetworkPolicyPort[] | undefined, port: number, protocol: string): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'string') return false; // named ports: not used by mtopo's policies
    const end = p.endPort ?? p.port;
    return port >= p.port && port <= end;
  });
}

const selects = (policy: NetworkPolicy, pod: PodEndpoint) =>
  policy.metadata?.namespace === pod.namespace && matchesSelector(policy.spec?.podSelector, pod.labels);

function typesOf(policy: NetworkPolicy): string[] {
  return policy.spec?.policyTypes ?? (policy.spec?.egress ? ['Ingress', 'Egress'] : ['Ingress']);
}

function egressAllowed(policies: readonly NetworkPolicy[], c: Connection): boolean {
  if (c.from.kind !== 'pod') return true;
  const pod = c.from;
  const relevant = policies.filter((p) => selects(p, pod) && typesOf(p).includes('Egress'));
  if (relevant.length === 0) return true;
  return relevant.some((p) =>
    (p.spec?.egress ?? []).some(
      (rule) =>
        portMatches(rule.ports, c.port, c.protocol) &&
        (!rule.to || rule.to.length === 0 || rule.to.some((peer) => peerMatches(peer, pod.namespace, c.to))),
    ),
  );
}

function ingressAllowed(policies: readonly NetworkPolicy[], c: Connection): boolean {
  if (c.to.kind !== 'pod') return true;
  const pod = c.to;
  const relevant = policies.filter((p) => selects(p, pod) && typesOf(p).includes('Ingress'));
  if (relevant.length === 0) return true;
  return relevant.some((p) =>
    (p.spec?.ingress ?? []).some(
      (rule) =>
        portMatches(rule.ports, c.port, c.protocol) &&
        (!rule.from ||
          rule.from.length === 0 ||
          rule.from.some((peer) => peerMatches(peer, pod.namespace, c.from))),
    ),
  );
}

export function connectionAllowed(policies: readonly NetworkPolicy[], c: Connection): boolean {
  return egressAllowed(policies, c) && ingressAllowed(policies, c);
}
