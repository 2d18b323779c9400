// Reconciles one site: a MessagingTopology with the MTARelays and MMPPools that reference it. Reads
// from the informers' caches, renders, applies what differs, prunes what is no longer desired, and
// writes status only when it changed. Reads top to bottom: fetch → validate → render → apply →
// prune → status.
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Condition } from '../api/common.ts';
import type { MessagingTopology } from '../api/messaging-topology.ts';
import type { MMPPool } from '../api/mmp-pool.ts';
import type { MTARelay } from '../api/mta-relay.ts';
import { parseResource, type Problem } from '../api/parse.ts';
import { LABEL_TOPOLOGY, topologyLabels } from '../render/labels.ts';
import { renderSite } from '../render/render.ts';
import { INTERNAL_KEYS, internalSecretName } from '../render/secrets.ts';
import type { Site } from '../render/site.ts';
import { mergeConditions } from './conditions.ts';
import type { EventRecorder } from './events.ts';
import { CHILD_KINDS } from './kube/resources.ts';
import type { KubeClient } from './kube/rest-client.ts';
import { containsDesired, prunable, withOwner, type OwnerUids } from './ownership.ts';
import {
  invalidSpecConditions,
  memberStatus,
  orphanStatus,
  topologyStatus,
  type Observed,
} from './status.ts';

export const PAUSE_ANNOTATION = 'mtopo.dev/paused';

export interface Cache {
  get(kind: string, namespace: string, name: string): KubernetesObject | undefined;
  list(kind: string, namespace: string): KubernetesObject[];
}

export type ReconcileResult = 'done' | 'retry';

type WithStatus = KubernetesObject & { status?: { conditions?: Condition[] } & Record<string, unknown> };

const refersTo = (name: string) => (o: KubernetesObject) =>
  (o as { spec?: { topologyRef?: { name?: string } } }).spec?.topologyRef?.name === name;

function problemsMessage(problems: readonly Problem[]): string {
  const listed = problems.map((p) => `${p.field}: ${p.message}`).join('; ');
  return `The spec is invalid: ${listed}. Fix the resource; nothing it runs is changed or deleted until then.`;
}

export class SiteReconciler {
  readonly #client: KubeClient;
  readonly #cache: Cache;
  readonly #events: EventRecorder;
  readonly #log: Logger;
  readonly #now: () => string;
  /**
   * What the server answered to our last apply of each object: if the live object is still that
   * version and we would apply the same thing again, there is nothing to do, even where the server
   * normalises a value (a quantity, a dropped empty field) so the live object reads differently.
   */
  readonly #lastApplied = new Map<string, { desired: string; resourceVersion: string | undefined }>();
  /** Topologies (by uid) whose internal Secret is known to exist: created, or found by a 409. */
  readonly #internalSecrets = new Set<string>();

  constructor(
    client: KubeClient,
    cache: Cache,
    events: EventRecorder,
    log: Logger,
    now = () => new Date().toISOString(),
  ) {
    this.#client = client;
    this.#cache = cache;
    this.#events = events;
    this.#log = log;
    this.#now = now;
  }

  async reconcile(namespace: string, name: string): Promise<ReconcileResult> {
    // fetch
    const rawTopology = this.#cache.get('MessagingTopology', namespace, name) as WithStatus | undefined;
    const rawRelays = this.#cache.list('MTARelay', namespace).filter(refersTo(name)) as WithStatus[];
    const rawPools = this.#cache.list('MMPPool', namespace).filter(refersTo(name)) as WithStatus[];
    if (!rawTopology || rawTopology.metadata?.deletionTimestamp) {
      for (const member of [...rawRelays, ...rawPools]) {
        const generation = member.metadata?.generation ?? 0;
        const kind = member.kind as 'MTARelay' | 'MMPPool';
        await this.#writeStatus(
          member,
          orphanStatus(kind, name, namespace, generation, member.status?.conditions, this.#now()),
        );
      }
      return 'done';
    }

    // validate
    const parsed = parseResource(rawTopology, 0);
    if (!parsed.ok) {
      const message = problemsMessage(parsed.problems);
      await this.#events.record(rawTopology, 'Warning', 'InvalidSpec', message);
      await this.#writeStatus(rawTopology, {
        observedGeneration: rawTopology.metadata?.generation ?? 0,
        conditions: mergeConditions(
          rawTopology.status?.conditions,
          invalidSpecConditions(message, rawTopology.metadata?.generation ?? 0),
          this.#now(),
        ),
      });
      return 'done';
    }
    const topology = parsed.resource as MessagingTopology;
    const relays: MTARelay[] = [];
    const pools: MMPPool[] = [];
    const protectedUids = new Set<string>();
    for (const member of [...rawRelays, ...rawPools]) {
      const result = parseResource(member, 0);
      if (result.ok) {
        if (result.resource.kind === 'MTARelay') relays.push(result.resource);
        else if (result.resource.kind === 'MMPPool') pools.push(result.resource);
        continue;
      }
      protectedUids.add(member.metadata?.uid ?? '');
      const message = problemsMessage(result.problems);
      const generation = member.metadata?.generation ?? 0;
      await this.#events.record(member, 'Warning', 'InvalidSpec', message);
      await this.#writeStatus(member, {
        observedGeneration: generation,
        conditions: mergeConditions(
          member.status?.conditions,
          invalidSpecConditions(message, generation),
          this.#now(),
        ),
      });
    }
    if (rawTopology.metadata?.annotations?.[PAUSE_ANNOTATION] === 'true') {
      await this.#writePaused(rawTopology);
      return 'done';
    }

    // render
    const { site, objects, warnings } = renderSite({ topology, relays, pools });
    const uids: OwnerUids = {
      topology: rawTopology.metadata?.uid ?? '',
      members: new Map(
        [...relays, ...pools].map((m) => [`${m.kind}/${m.metadata.name}`, m.metadata.uid ?? '']),
      ),
    };
    const desired = objects.map((o) => withOwner(site, o, uids));

    // apply
    const applyErrors: string[] = [];
    const applied: string[] = [];
    await this.#ensureInternalSecret(site, uids, applyErrors);
    for (const object of desired) {
      const kind = object.kind ?? '';
      const objectName = object.metadata?.name ?? '';
      const live = this.#cache.get(kind, namespace, objectName);
      const key = `${kind}/${namespace}/${objectName}`;
      const serialized = JSON.stringify(object);
      const last = this.#lastApplied.get(key);
      const unchangedSinceOurApply =
        last !== undefined &&
        last.desired === serialized &&
        last.resourceVersion === live?.metadata?.resourceVersion;
      if (live && (unchangedSinceOurApply || containsDesired(live, object))) continue;
      try {
        const answer = await this.#client.apply(object);
        this.#lastApplied.set(key, {
          desired: serialized,
          resourceVersion: answer.metadata?.resourceVersion,
        });
        const verb = live ? 'updated' : 'created';
        this.#log.debug({ topology: `${namespace}/${name}`, kind, name: objectName }, verb);
        applied.push(`${verb} ${kind} ${objectName}`);
      } catch (error) {
        const message = describeApplyError(kind, objectName, error);
        applyErrors.push(message);
        this.#log.error(
          { topology: `${namespace}/${name}`, kind, name: objectName, err: (error as Error).message },
          'apply failed',
        );
        await this.#events.record(rawTopology, 'Warning', 'ApplyFailed', message);
      }
    }

    if (applied.length > 0) {
      // One event and one log line per reconcile, not per object: a new site has dozens.
      const summary = `${applied.length} object${applied.length > 1 ? 's' : ''}: ${applied.join(', ')}`;
      this.#log.info({ topology: `${namespace}/${name}`, objects: applied.length }, 'applied');
      await this.#events.record(
        rawTopology,
        'Normal',
        'Applied',
        summary.length > 1000 ? `${summary.slice(0, 997)}...` : summary,
      );
    }

    // prune
    const existing = CHILD_KINDS.flatMap((kind) =>
      this.#cache.list(kind, namespace).filter((o) => o.metadata?.labels?.[LABEL_TOPOLOGY] === name),
    );
    const desiredKeys = new Set(desired.map((o) => `${o.kind}/${o.metadata?.name}`));
    const siteUids = new Set([uids.topology, ...uids.members.values()]);
    for (const orphan of prunable(existing, desiredKeys, siteUids, protectedUids)) {
      const kind = orphan.kind ?? '';
      const objectName = orphan.metadata?.name ?? '';
      if (await this.#client.delete(kind, namespace, objectName, orphan.metadata?.uid)) {
        this.#log.info({ topology: `${namespace}/${name}`, kind, name: objectName }, 'pruned');
        await this.#events.record(
          rawTopology,
          'Normal',
          'Pruned',
          `Deleted ${kind} ${objectName}, no longer part of the topology`,
        );
      }
    }

    // status
    const observed: Observed = new Map(existing.map((o) => [`${o.kind}/${o.metadata?.name}`, o]));
    await this.#writeStatus(
      rawTopology,
      topologyStatus(site, observed, warnings, applyErrors, rawTopology.status?.conditions, this.#now()),
    );
    for (const tier of [...site.relays, ...site.pools]) {
      const raw = [...rawRelays, ...rawPools].find(
        (m) => m.kind === tier.owner.kind && m.metadata?.name === tier.owner.name,
      );
      if (!raw) continue;
      const mine = applyErrors.filter((e) => e.includes(tier.name));
      const relevant = warnings.filter((w) => w.includes(`${tier.owner.kind} ${tier.owner.name}`));
      await this.#writeStatus(
        raw,
        memberStatus(
          site,
          tier,
          raw.metadata?.generation ?? 0,
          observed,
          relevant,
          mine,
          raw.status?.conditions,
          this.#now(),
        ),
      );
    }
    return applyErrors.length > 0 ? 'retry' : 'done';
  }

  /**
   * The credentials tiers use between themselves: generated once, never rendered, never logged,
   * never read back. Creating it blind (a 409 means it exists) spares the operator any right to read Secrets.
   */
  async #ensureInternalSecret(site: Site, uids: OwnerUids, applyErrors: string[]): Promise<void> {
    const name = internalSecretName(site);
    if (this.#internalSecrets.has(uids.topology)) return;
    const secret = withOwner(
      site,
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace: site.namespace, labels: topologyLabels(site) },
        type: 'Opaque',
        stringData: {
          [INTERNAL_KEYS.storeProxyPassword]: randomBytes(32).toString('base64url'),
          [INTERNAL_KEYS.xclientSecret]: randomBytes(32).toString('base64url'),
        },
      } as KubernetesObject,
      uids,
    );
    try {
      await this.#client.create(secret);
      this.#internalSecrets.add(uids.topology);
    } catch (error) {
      if ((error as { status?: number }).status === 409) this.#internalSecrets.add(uids.topology);
      else applyErrors.push(describeApplyError('Secret', name, error));
    }
  }

  async #writePaused(raw: WithStatus): Promise<void> {
    const generation = raw.metadata?.generation ?? 0;
    const previous = raw.status?.conditions ?? [];
    const paused = {
      type: 'Progressing',
      status: 'False' as const,
      reason: 'Paused',
      message: `Reconciliation is paused by the ${PAUSE_ANNOTATION} annotation; remove it to resume.`,
      observedGeneration: generation,
    };
    const others = previous
      .filter((c) => c.type !== 'Progressing')
      .map(({ lastTransitionTime: _, ...c }) => c);
    await this.#writeStatus(raw, {
      ...raw.status,
      conditions: mergeConditions(previous, [...others, paused], this.#now()),
    });
  }

  async #writeStatus(raw: WithStatus, status: object): Promise<void> {
    if (isDeepStrictEqual(JSON.parse(JSON.stringify(status)), raw.status ?? {})) return;
    await this.#client.applyStatus({
      apiVersion: raw.apiVersion,
      kind: raw.kind,
      metadata: { name: raw.metadata?.name, namespace: raw.metadata?.namespace },
      status,
    } as KubernetesObject);
  }
}

function describeApplyError(kind: string, name: string, error: unknown): string {
  const status = (error as { status?: number }).status;
  if (status === 404 && kind === 'Certificate') {
    return `Certificate ${name}: cert-manager is not installed (no certificates.cert-manager.io); install it, or set spec.tls.secretRef to an existing Secret`;
  }
  if (status === 403)
    return `${kind} ${name}: the operator may not write ${kind}s here; grant the RBAC in charts/mtopo`;
  return `${kind} ${name}: ${(error as Error).message}`;
}
