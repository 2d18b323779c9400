// Services. The internet-facing MTAs and the MMP pools sit behind load balancers by default; the
// other tiers are internal. Each Service maps the well-known port onto the unprivileged container
// port (25 → 2525). Stores are reached per replica (a user lives on one store), so theirs is headless.
import type { V1Service, V1ServicePort } from '@kubernetes/client-node';
import { PORTS, type PortKey } from '../../../images/lib/contract/ports.ts';
import { selectorLabels, tierLabels } from './labels.ts';
import type { PoolTier, RelayTier, Site, Tier } from './site.ts';
import { poolPorts, relayPorts, STORE_PORTS } from './tier-ports.ts';

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

function exposed(
  site: Site,
  tier: Tier,
  ports: readonly PortKey[],
  settings: ServiceSettings,
  defaultType: string,
): V1Service {
  const type = settings.type ?? defaultType;
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

export function relayServiceType(tier: RelayTier): string {
  return tier.relay.spec.service.type ?? (tier.role === 'internet' ? 'LoadBalancer' : 'ClusterIP');
}

export function renderRelayServices(site: Site, tier: RelayTier): V1Service[] {
  const ports = relayPorts(tier);
  return [
    exposed(site, tier, ports, tier.relay.spec.service, relayServiceType(tier)),
    headless(site, tier, ports),
  ];
}

export function poolServiceType(tier: PoolTier): string {
  return tier.pool.spec.service.type ?? 'LoadBalancer';
}

export function renderPoolServices(site: Site, tier: PoolTier): V1Service[] {
  return [exposed(site, tier, poolPorts(tier), tier.pool.spec.service, poolServiceType(tier))];
}
