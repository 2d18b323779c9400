// StatefulSets for the tiers that keep state (stores: mailboxes; MTAs: their queues, which must
// survive a restart so an acknowledged message is never lost) and Deployments for the stateless MMPs.
import type { V1Deployment, V1PersistentVolumeClaim, V1StatefulSet } from '@kubernetes/client-node';
import { PATHS } from '../../../images/lib/contract/ports.ts';
import { configMapName } from './config-maps.ts';
import { selectorLabels, tierLabels } from './labels.ts';
import { podTemplate } from './pod-template.ts';
import { headlessServiceName } from './services.ts';
import type { PoolTier, RelayTier, Site, Tier } from './site.ts';
import { poolPorts, relayPorts, STORE_PORTS } from './tier-ports.ts';

function claimTemplate(
  site: Site,
  tier: Tier,
  name: string,
  storage: { size: string; storageClassName?: string | undefined },
): V1PersistentVolumeClaim {
  return {
    metadata: { name, labels: tierLabels(site, tier) },
    spec: {
      accessModes: ['ReadWriteOnce'],
      ...(storage.storageClassName ? { storageClassName: storage.storageClassName } : {}),
      resources: { requests: { storage: storage.size } },
    },
  };
}

function statefulSet(
  site: Site,
  tier: Tier,
  template: ReturnType<typeof podTemplate>,
  claim: V1PersistentVolumeClaim,
): V1StatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: tier.name, namespace: site.namespace, labels: tierLabels(site, tier) },
    spec: {
      serviceName: headlessServiceName(tier),
      replicas: tier.replicas,
      // Replicas are independent (each has its own mailboxes or queue): start and stop them together.
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: selectorLabels(site, tier) },
      updateStrategy: { type: 'RollingUpdate' },
      // Scaling down must not delete a queue or mailboxes that still hold mail.
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      template,
      volumeClaimTemplates: [claim],
    },
  };
}

export function renderStoreStatefulSet(site: Site, configHash: string): V1StatefulSet {
  const stores = site.topology.spec.stores;
  const template = podTemplate(site, {
    tier: site.store,
    configMapName: configMapName(site.store),
    configHash,
    ports: STORE_PORTS,
    image: stores.image,
    resources: stores.resources,
    dataVolume: { name: 'mail', mountPath: PATHS.mail },
    needsDirectory: false,
    needsInternalSecret: true,
  });
  return statefulSet(site, site.store, template, claimTemplate(site, site.store, 'mail', stores.storage));
}

export function renderRelayStatefulSet(site: Site, tier: RelayTier, configHash: string): V1StatefulSet {
  const spec = tier.relay.spec;
  const template = podTemplate(site, {
    tier,
    configMapName: configMapName(tier),
    configHash,
    ports: relayPorts(tier),
    image: spec.image,
    resources: spec.resources,
    dataVolume: { name: 'queue', mountPath: PATHS.spool },
    needsDirectory: tier.role === 'inbound' || tier.role === 'outbound',
    needsInternalSecret: tier.role === 'outbound' && site.pools.some((p) => p.smtpProxyTarget === tier),
    ...(spec.smarthost?.authSecretRef ? { smarthostSecret: spec.smarthost.authSecretRef.name } : {}),
  });
  return statefulSet(site, tier, template, claimTemplate(site, tier, 'queue', spec.queue.storage));
}

export function renderPoolDeployment(site: Site, tier: PoolTier, configHash: string): V1Deployment {
  const spec = tier.pool.spec;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: tier.name, namespace: site.namespace, labels: tierLabels(site, tier) },
    spec: {
      replicas: tier.replicas,
      selector: { matchLabels: selectorLabels(site, tier) },
      // Keep full capacity during a rollout: a new MMP is ready before an old one drains.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: podTemplate(site, {
        tier,
        configMapName: configMapName(tier),
        configHash,
        ports: poolPorts(tier),
        image: spec.image,
        resources: spec.resources,
        needsDirectory: true,
        needsInternalSecret: true,
      }),
    },
  };
}
