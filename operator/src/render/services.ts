// Services, exposed as exposure.ts decides (the internet-facing MTAs and the MMP pools behind load
// balancers by default, the other tiers internal). Each Service maps the well-known port onto the unprivileged container
// port (25 → 2525). Stores are reached per replica (a user lives on one store), so theirs is headless.
import type { V1Service, V1ServicePort } from '@kubernetes/client-node';
import { PORTS, type PortKey } from '../../../images/lib/contract/ports.ts';
import { selectorLabels, tierLabels } from './labels.ts';
import type { PoolTier, RelayTier, Site, Tier } from './site.ts';
import { exposureOf } from './exposure.ts';
import { STORE_PORTS } from './tier-ports.ts';

export function headlessServiceName(tier: Tier): string {
  return tier.role === 'store' ? tier.name : `${tier.name}-headless`;
}

function servicePorts(keys: readonly PortKey[]): V1ServicePort[] {
  return keys.map((key) => ({
    name: PORTS[key].name,
    port: PORTS[key].service,
    targetPort: PORTS[key].name,
    protocol: 'TCP',
  }));
}

function headless(site: Site, tier: Tier, ports: readonly PortKey[]): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: headlessServiceName(tier), namespace: site.namespace, labels: tierLabels(site, tier) },
    spec: { clusterIP: 'None', selector: selectorLabels(site, tier), ports: servicePorts(ports) },
  };
}

type ServiceSettings = RelayTier['relay']['spec']['service'];

function exposed(site: Site, tier: RelayTier | PoolTier, settings: ServiceSettings): V1Service {
  const { serviceType: type, ports } = exposureOf(tier);
  const external = type === 'LoadBalancer' || type === 'NodePort';
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: tier.name,
      namespace: site.namespace,
      labels: tierLabels(site, tier),
      ...(settings.annotations ? { annotations: { ...settings.annotations } } : {}),
    },
    spec: {
      type,
      selector: selectorLabels(site, tier),
      ports: servicePorts(ports),
      ...(external ? { externalTrafficPolicy: settings.externalTrafficPolicy ?? 'Local' } : {}),
      ...(type === 'LoadBalancer' && settings.loadBalancerSourceRanges
        ? { loadBalancerSourceRanges: [...settings.loadBalancerSourceRanges] }
        : {}),
      ...(type === 'LoadBalancer' && settings.loadBalancerClass
        ? { loadBalancerClass: settings.loadBalancerClass }
        : {}),
    },
  };
}

export function renderStoreServices(site: Site): V1Service[] {
  return [headless(site, site.store, STORE_PORTS)];
}

export function renderRelayServices(site: Site, tier: RelayTier): V1Service[] {
  const { ports } = exposureOf(tier);
  return [exposed(site, tier, tier.relay.spec.service), headless(site, tier, ports)];
}

export function renderPoolServices(site: Site, tier: PoolTier): V1Service[] {
  // No sessionAffinity for POP-before-SMTP: kube-proxy keeps it per Service port, so it would pin
  // a client's POP3 and its SMTP to a replica each, not to the same one (docs/mmp.md).
  return [exposed(site, tier, tier.pool.spec.service)];
}
