// How each tier is reached: its Service type, whether the load balancer in front sends the PROXY
// protocol, and the ports it serves. Decided here once; the Services, status, the diagram and
// `mtopo plan` all read it, so they cannot disagree.
import { PORTS, type PortKey } from '../../../images/lib/contract/ports.ts';
import type { Tier } from './site.ts';
import { poolPorts, relayPorts, STORE_PORTS } from './tier-ports.ts';

export type ServiceType = 'ClusterIP' | 'LoadBalancer' | 'NodePort';
export type ProxyProtocol = 'none' | 'v1' | 'v2';

export interface Exposure {
  /** 'headless' for stores: a user lives on one store, so clients address a replica, not a pool. */
  readonly serviceType: ServiceType | 'headless';
  readonly proxyProtocol: ProxyProtocol;
  /** The listeners the tier's Service publishes, as port-catalogue keys. */
  readonly ports: readonly PortKey[];
}

/** Internet-facing MTAs and MMP pools sit behind load balancers by default; the rest is internal. */
export function exposureOf(tier: Tier): Exposure {
  switch (tier.role) {
    case 'store':
      return { serviceType: 'headless', proxyProtocol: 'none', ports: STORE_PORTS };
    case 'mmp':
      return {
        serviceType: tier.pool.spec.service.type ?? 'LoadBalancer',
        proxyProtocol: tier.pool.spec.service.proxyProtocol,
        ports: poolPorts(tier),
      };
    default:
      return {
        serviceType:
          tier.relay.spec.service.type ?? (tier.role === 'internet' ? 'LoadBalancer' : 'ClusterIP'),
        proxyProtocol: tier.relay.spec.service.proxyProtocol,
        ports: relayPorts(tier),
      };
  }
}

/** The ports clients use (25, 587, 993…), in the order the tier lists its listeners. */
export function servicePortNumbers(exposure: Exposure): number[] {
  return exposure.ports.map((key) => PORTS[key].service);
}
