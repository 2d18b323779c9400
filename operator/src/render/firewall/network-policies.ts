// NetworkPolicies from the flow model: one default-deny policy over every pod of the topology, then
// one policy per tier admitting exactly the flows that start or end at it. Policies are additive, so
// the union is the flow list and nothing else.
import type { V1NetworkPolicyPort } from '@kubernetes/client-node';
import type { NetworkPolicy, NetworkPolicyPeer } from './policy-types.ts';
import { LABEL_TOPOLOGY, selectorLabels, tierLabels, topologyLabels } from '../labels.ts';
import { allTiers, type Site, type Tier } from '../site.ts';
import { infrastructureFlows, siteFlows, type Flow, type FlowEnd } from './flows.ts';

export function defaultDenyPolicyName(site: Site): string {
  return `${site.topology.metadata.name}-default-deny`;
}

function peers(site: Site, end: FlowEnd): NetworkPolicyPeer[] {
  if (end.kind === 'tier') return [{ podSelector: { matchLabels: selectorLabels(site, end.tier) } }];
  return end.peers.map((peer) => ('ipBlock' in peer ? { ipBlock: { ...peer.ipBlock } } : { ...peer }));
}

function ports(flow: Flow): V1NetworkPolicyPort[] {
  return flow.ports.map((p) => ({ protocol: p.protocol, port: p.port }));
}

const isTier = (end: FlowEnd, tier: Tier) => end.kind === 'tier' && end.tier.name === tier.name;

export function renderNetworkPolicies(site: Site): NetworkPolicy[] {
  const tiers = allTiers(site);
  const flows = [...siteFlows(site), ...infrastructureFlows(site, tiers)];
  const policies: NetworkPolicy[] = [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: {
        name: defaultDenyPolicyName(site),
        namespace: site.namespace,
        labels: topologyLabels(site),
        annotations: {
          'mtopo.dev/description':
            'Deny all traffic to and from the mail system unless a tier policy admits it.',
        },
      },
      spec: {
        podSelector: { matchLabels: { [LABEL_TOPOLOGY]: site.topology.metadata.name } },
        // No rules: with both policy types listed, that denies all. An empty list (`ingress: []`)
        // would say the same but is not stored (the API server drops it), so every apply of it
        // would be a change: a write and a new generation each time a GitOps tool synced it.
        policyTypes: ['Ingress', 'Egress'],
      },
    },
  ];
  for (const tier of tiers) {
    const ingress = flows
      .filter((f) => isTier(f.to, tier))
      .map((f) => ({ from: peers(site, f.from), ports: ports(f) }));
    const egress = flows
      .filter((f) => isTier(f.from, tier))
      .map((f) => ({ to: peers(site, f.to), ports: ports(f) }));
    policies.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: {
        name: tier.name,
        namespace: site.namespace,
        labels: tierLabels(site, tier),
        annotations: {
          'mtopo.dev/description': `The ${tier.zone} zone's wall around ${tier.name}: ${[
            ...new Set(flows.filter((f) => isTier(f.to, tier) || isTier(f.from, tier)).map((f) => f.purpose)),
          ].join('; ')}.`,
        },
      },
      spec: {
        podSelector: { matchLabels: selectorLabels(site, tier) },
        policyTypes: ['Ingress', 'Egress'],
        ...(ingress.length > 0 ? { ingress } : {}),
        ...(egress.length > 0 ? { egress } : {}),
      },
    });
  }
  return policies;
}
