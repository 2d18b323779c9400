// What the operator reports, computed from what it rendered and what the cluster says about the
// children. Pure: the reconciler fetches, this decides, and the reconciler writes only on change.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { z } from 'zod';
import type { Condition } from '../api/common.ts';
import type { messagingTopologyStatus } from '../api/messaging-topology.ts';
import type { mmpPoolStatus } from '../api/mmp-pool.ts';
import type { mtaRelayStatus } from '../api/mta-relay.ts';
import { dnsRecords } from '../render/dns-records.ts';
import { exposureOf, servicePortNumbers } from '../render/exposure.ts';
import { storeHosts } from '../render/program-configs.ts';
import { allTiers, type Finding, type OwnerRef, type Site, type Tier } from '../render/site.ts';
import { mergeConditions, type ConditionInput } from './conditions.ts';

/** The status the CRD declares, so what is written and what the schema admits cannot drift apart. */
export type TopologyStatus = z.output<typeof messagingTopologyStatus>;
/**
 * MTARelay and MMPPool share one status shape (api/common.ts tierResourceStatus); a pool's adds
 * the protocols it serves.
 */
export type MemberStatus = z.output<typeof mtaRelayStatus> &
  Pick<z.output<typeof mmpPoolStatus>, 'protocols'>;

interface WorkloadStatus {
  observedGeneration?: number;
  replicas?: number;
  readyReplicas?: number;
  updatedReplicas?: number;
}

interface ServiceStatus {
  loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] };
}

/** The children as last seen: "Kind/name" → object (with its status). */
export type Observed = ReadonlyMap<string, KubernetesObject>;

export interface TierState {
  tier: Tier;
  replicas: number;
  readyReplicas: number;
  ready: boolean;
  rollingOut: boolean;
  /** LoadBalancer addresses, or the in-cluster Service name for internal tiers. */
  addresses: string[];
}

const workloadKind = (tier: Tier) => (tier.role === 'mmp' ? 'Deployment' : 'StatefulSet');

/** The findings addressed to one resource: by kind and name, never by a substring of the text. */
export function findingsFor(owner: OwnerRef, findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => f.owner.kind === owner.kind && f.owner.name === owner.name);
}

const messages = (findings: readonly Finding[]) => findings.map((f) => f.message).join('; ');

function loadBalancerAddresses(service: KubernetesObject | undefined): string[] {
  const ingress = (service as { status?: ServiceStatus } | undefined)?.status?.loadBalancer?.ingress ?? [];
  return ingress.map((i) => i.ip ?? i.hostname ?? '').filter((a) => a !== '');
}

export function tierState(site: Site, tier: Tier, observed: Observed): TierState {
  const workload: (KubernetesObject & { status?: WorkloadStatus }) | undefined = observed.get(
    `${workloadKind(tier)}/${tier.name}`,
  );
  const status = workload?.status ?? {};
  const current = (status.observedGeneration ?? 0) >= (workload?.metadata?.generation ?? 1);
  const readyReplicas = current ? (status.readyReplicas ?? 0) : 0;
  const updated = status.updatedReplicas ?? 0;
  const addresses =
    exposureOf(tier).serviceType === 'LoadBalancer'
      ? loadBalancerAddresses(observed.get(`Service/${tier.name}`))
      : [`${tier.name}.${site.namespace}.svc`];
  return {
    tier,
    replicas: tier.replicas,
    readyReplicas,
    ready: workload !== undefined && current && readyReplicas >= tier.replicas && updated >= tier.replicas,
    rollingOut: workload === undefined || !current || updated < tier.replicas,
    addresses,
  };
}

function summary(states: readonly TierState[]): string {
  return states
    .filter((s) => !s.ready)
    .map((s) => `${s.tier.name} ${s.readyReplicas}/${s.replicas} ready`)
    .join('; ');
}

/** Ready's message when every tier is: a member's status speaks of its one tier. */
export function allReadyMessage(states: readonly TierState[]): string {
  const [only] = states;
  if (states.length === 0) return 'There is no tier to run.';
  if (states.length === 1 && only) return `The ${only.tier.name} tier is ready.`;
  return `All ${states.length} tiers are ready.`;
}

/** Ready, Progressing, Degraded and Stalled from the tiers' states, the site's warnings and apply errors. */
export function siteConditions(
  states: readonly TierState[],
  warnings: readonly Finding[],
  applyErrors: readonly Finding[],
  generation: number,
): ConditionInput[] {
  const allReady = states.every((s) => s.ready);
  const rolling = states.filter((s) => s.rollingOut);
  return [
    allReady
      ? {
          type: 'Ready',
          status: 'True',
          reason: 'AllTiersReady',
          message: allReadyMessage(states),
          observedGeneration: generation,
        }
      : {
          type: 'Ready',
          status: 'False',
          reason: 'TiersNotReady',
          message: `Waiting for ${summary(states)}.`,
          observedGeneration: generation,
        },
    rolling.length > 0
      ? {
          type: 'Progressing',
          status: 'True',
          reason: 'RollingOut',
          message: `Rolling out ${rolling.map((s) => s.tier.name).join(', ')}.`,
          observedGeneration: generation,
        }
      : {
          type: 'Progressing',
          status: 'False',
          reason: 'Stable',
          message: 'Every tier runs the desired spec.',
          observedGeneration: generation,
        },
    applyErrors.length > 0
      ? {
          type: 'Degraded',
          status: 'True',
          reason: 'ApplyFailed',
          message: messages(applyErrors),
          observedGeneration: generation,
        }
      : warnings.length > 0
        ? {
            type: 'Degraded',
            status: 'True',
            reason: 'IncompleteTopology',
            message: messages(warnings),
            observedGeneration: generation,
          }
        : {
            type: 'Degraded',
            status: 'False',
            reason: 'AsExpected',
            message: 'No problems found.',
            observedGeneration: generation,
          },
    notStalled('AsExpected', 'Nothing keeps the operator from converging.', generation),
  ];
}

/**
 * kstatus's "Stalled" (Flux, kpt, Argo CD's kstatus mode): True only when nothing converges until a
 * person acts, so those tools fail at once instead of waiting for Ready until their timeout.
 */
function notStalled(reason: string, message: string, generation: number): ConditionInput {
  return { type: 'Stalled', status: 'False', reason, message, observedGeneration: generation };
}

export function invalidSpecConditions(message: string, generation: number): ConditionInput[] {
  return [
    { type: 'Ready', status: 'False', reason: 'InvalidSpec', message, observedGeneration: generation },
    {
      type: 'Progressing',
      status: 'False',
      reason: 'InvalidSpec',
      message: 'Nothing is changed until the spec is fixed; what runs is left running.',
      observedGeneration: generation,
    },
    { type: 'Degraded', status: 'True', reason: 'InvalidSpec', message, observedGeneration: generation },
    { type: 'Stalled', status: 'True', reason: 'InvalidSpec', message, observedGeneration: generation },
  ];
}

/** What each published tier is reached for, by role; the ports come from its exposure. */
const ENDPOINT_NAMES: Partial<Record<Tier['role'], string>> = {
  internet: 'mx',
  mmp: 'clients',
  outbound: 'submission',
};

export function topologyStatus(
  site: Site,
  observed: Observed,
  warnings: readonly Finding[],
  applyErrors: readonly Finding[],
  previous: readonly Condition[] | undefined,
  now: string,
): TopologyStatus {
  const generation = site.topology.metadata.generation ?? 0;
  const states = allTiers(site).map((t) => tierState(site, t, observed));
  const addresses = new Map(states.map((s) => [s.tier.name, s.addresses]));
  const endpoints: NonNullable<TopologyStatus['endpoints']> = [];
  for (const role of ['internet', 'mmp', 'outbound'] as const) {
    const name = ENDPOINT_NAMES[role] ?? role;
    for (const s of states.filter((x) => x.tier.role === role)) {
      const ports = servicePortNumbers(exposureOf(s.tier));
      for (const address of s.addresses) endpoints.push({ name, address, ports });
    }
  }
  return {
    observedGeneration: generation,
    conditions: mergeConditions(previous, siteConditions(states, warnings, applyErrors, generation), now),
    tiers: states.map((s) => ({
      name: s.tier.name,
      kind: s.tier.owner.kind,
      role: s.tier.role,
      replicas: s.replicas,
      readyReplicas: s.readyReplicas,
    })),
    ready: `${states.filter((s) => s.ready).length}/${states.length}`,
    domains: site.topology.spec.domains.join(','),
    endpoints,
    mailHosts: storeHosts(site),
    dnsRecords: dnsRecords(site, addresses),
  };
}

export function memberStatus(
  site: Site,
  tier: Tier,
  generation: number,
  observed: Observed,
  warnings: readonly Finding[],
  applyErrors: readonly Finding[],
  previous: readonly Condition[] | undefined,
  now: string,
): MemberStatus {
  const state = tierState(site, tier, observed);
  const mine = (findings: readonly Finding[]) => findingsFor(tier.owner, findings);
  return {
    observedGeneration: generation,
    conditions: mergeConditions(
      previous,
      siteConditions([state], mine(warnings), mine(applyErrors), generation),
      now,
    ),
    replicas: state.replicas,
    readyReplicas: state.readyReplicas,
    ready: `${state.readyReplicas}/${state.replicas}`,
    ...(state.addresses.length > 0 ? { endpoint: state.addresses.join(',') } : {}),
    // kubectl prints an array column as JSON; a joined string reads like its own columns.
    ...(tier.role === 'mmp' ? { protocols: tier.pool.spec.protocols.join(',') } : {}),
  };
}

export function orphanStatus(
  kind: 'MTARelay' | 'MMPPool',
  topologyName: string,
  namespace: string,
  generation: number,
  previous: readonly Condition[] | undefined,
  now: string,
): MemberStatus {
  const message = `MessagingTopology "${topologyName}" does not exist in namespace ${namespace}: create it, or set spec.topologyRef.name to an existing one. This ${kind} waits and is reconciled as soon as it appears.`;
  return {
    observedGeneration: generation,
    conditions: mergeConditions(
      previous,
      [
        {
          type: 'Ready',
          status: 'False',
          reason: 'TopologyNotFound',
          message,
          observedGeneration: generation,
        },
        {
          type: 'Progressing',
          status: 'False',
          reason: 'TopologyNotFound',
          message,
          observedGeneration: generation,
        },
        {
          type: 'Degraded',
          status: 'True',
          reason: 'TopologyNotFound',
          message,
          observedGeneration: generation,
        },
        // Waiting for its topology, which may well be applied next: not stalled.
        notStalled('TopologyNotFound', message, generation),
      ],
      now,
    ),
  };
}
