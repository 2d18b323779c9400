// Which ports each tier listens on: read by the workloads (container ports), the Services and the
// program configs.
import type { PortKey } from '../../../images/lib/contract/ports.ts';
import type { PoolTier, RelayTier } from './site.ts';

export function relayPorts(tier: RelayTier): PortKey[] {
  return tier.role === 'outbound' ? ['submission', 'submissions'] : ['smtp'];
}

export function poolPorts(tier: PoolTier): PortKey[] {
  const ports: PortKey[] = [...tier.pool.spec.protocols];
  if (tier.smtpProxyTarget) ports.push('submission', 'submissions');
  return ports;
}

export const STORE_PORTS: readonly PortKey[] = ['lmtp', 'imap', 'pop3'];
