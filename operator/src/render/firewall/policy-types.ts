// The NetworkPolicy wire format. @kubernetes/client-node's model names the ingress field `_from`
// (its serializer renames it), so objects written as plain JSON need their own type.
import type { V1IPBlock, V1LabelSelector, V1NetworkPolicyPort, V1ObjectMeta } from '@kubernetes/client-node';

export interface NetworkPolicyPeer {
  ipBlock?: V1IPBlock;
  namespaceSelector?: V1LabelSelector;
  podSelector?: V1LabelSelector;
}

export interface NetworkPolicy {
  apiVersion: 'networking.k8s.io/v1';
  kind: 'NetworkPolicy';
  metadata: V1ObjectMeta;
  spec: {
    podSelector: V1LabelSelector;
    policyTypes: ('Ingress' | 'Egress')[];
    ingress?: { from?: NetworkPolicyPeer[]; ports?: V1NetworkPolicyPort[] }[];
    egress?: { to?: NetworkPolicyPeer[]; ports?: V1NetworkPolicyPort[] }[];
  };
}
