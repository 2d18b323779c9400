// Reconciles one site: a MessagingTopology with the MTARelays and MMPPools that reference it. Reads
// from the informers' caches and reads top to bottom: fetch → validate → render → apply → prune →
// status. Each concern has its own file under site/: applying with its skip cache, pruning, the
// internal Secret, writing status.
//
// A site whose inputs (the uid and generation of its topology and members) are what they were at
// its last clean reconcile, and whose children are all still at the versions that reconcile left
// them at, is neither validated nor rendered again: the same input renders the same objects. Only
// status is recomputed, from the children's current state. Both checks read generation, labels and
// annotations (cached-child.ts childVersion) rather than resourceVersion: every status write (ours on
// the topology, the controllers' on a StatefulSet rolling out) bumps the resourceVersion and would
// defeat the check each time, while a change to a spec, a label or an annotation (the pause
// annotation, a hand edit of a child) must still lead to a render.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { MessagingTopology } from '../api/messaging-topology.ts';
import type { MMPPool } from '../api/mmp-pool.ts';
import type { MTARelay } from '../api/mta-relay.ts';
import { parseResource, type Problem } from '../api/parse.ts';
import { LABEL_TOPOLOGY } from '../render/labels.ts';
import type { DefaultImages } from '../render/images.ts';
import { renderSite } from '../render/render.ts';
import type { Finding, OwnerRef, Site } from '../render/site.ts';
import { CHILD_KINDS } from '../render/render.ts';
import { childVersion } from './cached-child.ts';
import { mergeConditions } from './conditions.ts';
import type { EventRecorder } from './events.ts';
import type { KubeClient } from './kube/rest-client.ts';
import { withOwner, type OwnerUids } from './ownership.ts';
import { ChildApplier, type Cache } from './site/applier.ts';
import { InternalSecrets } from './site/internal-secret.ts';
import { pruneSite } from './site/prune.ts';
import { PAUSE_ANNOTATION, StatusWriter, type WithStatus } from './site/status-writer.ts';
import {
  invalidSpecConditions,
  memberStatus,
  orphanStatus,
  topologyStatus,
  type Observed,
} from './status.ts';

export { PAUSE_ANNOTATION, type Cache };

export type ReconcileResult = 'done' | 'retry';

/** What became of each resource a reconcile looked at: the reconcile metrics count these by kind. */
export type ResourceOutcome = 'done' | 'retry' | 'invalid' | 'orphaned' | 'paused';

export interface ReconcileReport {
  readonly result: ReconcileResult;
  /** Whether the site was validated and rendered, or skipped as unchanged. */
  readonly rendered: boolean;
  readonly resources: readonly { readonly owner: OwnerRef; readonly outcome: ResourceOutcome }[];
}

/** What a clean reconcile of a site found, kept so that an unchanged site skips validate and render. */
interface Rendered {
  readonly inputs: string;
  readonly site: Site;
  readonly warnings: readonly Finding[];
  readonly uids: OwnerUids;
}

const refersTo = (name: string) => (o: KubernetesObject) =>
  (o as { spec?: { topologyRef?: { name?: string } } }).spec?.topologyRef?.name === name;

const ownerOf = (o: KubernetesObject) => ({ kind: o.kind, name: o.metadata?.name ?? '' }) as OwnerRef;

function problemsMessage(problems: readonly Problem[]): string {
  const listed = problems.map((p) => `${p.field}: ${p.message}`).join('; ');
  return `The spec is invalid: ${listed}. Fix the resource; nothing it runs is changed or deleted until then.`;
}

/** The site's inputs: which resources make it, at which generation, labels and annotations. */
export function siteInputs(topology: KubernetesObject, members: readonly KubernetesObject[]): string {
  const id = (o: KubernetesObject) => `${o.kind}/${o.metadata?.name}/${o.metadata?.uid}@${childVersion(o)}`;
  return [id(topology), ...members.map(id).sort()].join(' ');
}

export class SiteReconciler {
  readonly #client: KubeClient;
  readonly #cache: Cache;
  readonly #events: EventRecorder;
  readonly #log: Logger;
  readonly #status: StatusWriter;
  readonly #applier: ChildApplier;
  readonly #secrets: InternalSecrets;
  readonly #rendered = new Map<string, Rendered>();
  readonly #defaultImages: DefaultImages;

  constructor(
    client: KubeClient,
    cache: Cache,
    events: EventRecorder,
    log: Logger,
    options: { defaultImages?: DefaultImages; now?: () => string } = {},
  ) {
    const now = options.now ?? (() => new Date().toISOString());
    this.#defaultImages = options.defaultImages ?? {};
    this.#client = client;
    this.#cache = cache;
    this.#events = events;
    this.#log = log;
    this.#status = new StatusWriter(client, now);
    this.#applier = new ChildApplier(client, cache, log);
    this.#secrets = new InternalSecrets(client);
  }

  async reconcile(namespace: string, name: string): Promise<ReconcileReport> {
    const key = `${namespace}/${name}`;
    // fetch
    const rawTopology = this.#cache.get('MessagingTopology', namespace, name) as WithStatus | undefined;
    const rawRelays = this.#cache.list('MTARelay', namespace).filter(refersTo(name)) as WithStatus[];
    const rawPools = this.#cache.list('MMPPool', namespace).filter(refersTo(name)) as WithStatus[];
    const rawMembers = [...rawRelays, ...rawPools];
    if (!rawTopology || rawTopology.metadata?.deletionTimestamp) {
      this.#forget(key, namespace, name);
      for (const member of rawMembers) {
        const generation = member.metadata?.generation ?? 0;
        const kind = member.kind as 'MTARelay' | 'MMPPool';
        await this.#status.write(
          member,
          orphanStatus(kind, name, namespace, generation, member.status?.conditions, this.#status.now()),
        );
      }
      return {
        result: 'done',
        rendered: false,
        resources: rawMembers.map((m) => ({ owner: ownerOf(m), outcome: 'orphaned' as const })),
      };
    }

    const paused = rawTopology.metadata?.annotations?.[PAUSE_ANNOTATION] === 'true';
    const inputs = siteInputs(rawTopology, rawMembers);
    const known = this.#rendered.get(key);
    const unchanged = !paused && known?.inputs === inputs && this.#applier.inSync(namespace, name);
    let rendered: Rendered;
    let applyErrors: Finding[] = [];
    const outcomes = new Map<string, ResourceOutcome>();
    if (known && unchanged) {
      rendered = known;
      // Nothing to render or apply, but something may have appeared that the site owns and does
      // not want (an older version's leftover): a clean last reconcile recorded every wanted child.
      await this.#prune(rawTopology, rendered, this.#applier.childKeys(namespace, name), new Set());
    } else {
      const fresh = await this.#validateRenderApply(rawTopology, rawMembers, outcomes);
      if (fresh === 'stop') {
        this.#rendered.delete(key);
        return {
          result: 'done',
          rendered: true,
          resources: [rawTopology, ...rawMembers].map((o) => ({
            owner: ownerOf(o),
            outcome: outcomes.get(`${o.kind}/${o.metadata?.name}`) ?? 'done',
          })),
        };
      }
      ({ applyErrors } = fresh);
      rendered = { inputs, site: fresh.site, warnings: fresh.warnings, uids: fresh.uids };
      const clean = applyErrors.length === 0 && fresh.protectedUids.size === 0;
      if (clean) this.#rendered.set(key, rendered);
      else this.#rendered.delete(key);
      await this.#prune(rawTopology, rendered, fresh.desiredKeys, fresh.protectedUids);
    }
    const { site, warnings } = rendered;

    // status
    const existing = this.#children(namespace, name);
    const observed: Observed = new Map(existing.map((o) => [`${o.kind}/${o.metadata?.name}`, o]));
    const now = this.#status.now();
    await this.#status.write(
      rawTopology,
      topologyStatus(site, observed, warnings, applyErrors, rawTopology.status?.conditions, now),
    );
    for (const tier of [...site.relays, ...site.pools]) {
      const raw = rawMembers.find((m) => m.kind === tier.owner.kind && m.metadata?.name === tier.owner.name);
      if (!raw) continue;
      const generation = raw.metadata?.generation ?? 0;
      await this.#status.write(
        raw,
        memberStatus(site, tier, generation, observed, warnings, applyErrors, raw.status?.conditions, now),
      );
    }
    const failed = new Set(applyErrors.map((e) => `${e.owner.kind}/${e.owner.name}`));
    const outcome = (o: KubernetesObject): ResourceOutcome =>
      outcomes.get(`${o.kind}/${o.metadata?.name}`) ??
      (failed.has(`${o.kind}/${o.metadata?.name}`) ? 'retry' : 'done');
    return {
      result: applyErrors.length > 0 ? 'retry' : 'done',
      rendered: rendered !== known,
      resources: [rawTopology, ...rawMembers].map((o) => ({ owner: ownerOf(o), outcome: outcome(o) })),
    };
  }

  /**
   * validate → render → apply. 'stop' when the topology is invalid or paused (its status written);
   * members with an invalid spec get their status here and are left out of the render.
   */
  async #validateRenderApply(
    rawTopology: WithStatus,
    rawMembers: readonly WithStatus[],
    outcomes: Map<string, ResourceOutcome>,
  ): Promise<
    | 'stop'
    | {
        site: Site;
        warnings: Finding[];
        uids: OwnerUids;
        applyErrors: Finding[];
        protectedUids: Set<string>;
        desiredKeys: Set<string>;
      }
  > {
    const parsed = parseResource(rawTopology, 0);
    const topologyKey = `MessagingTopology/${rawTopology.metadata?.name}`;
    if (!parsed.ok) {
      const message = problemsMessage(parsed.problems);
      const generation = rawTopology.metadata?.generation ?? 0;
      outcomes.set(topologyKey, 'invalid');
      await this.#events.record(rawTopology, 'Warning', 'InvalidSpec', message);
      await this.#status.write(rawTopology, {
        observedGeneration: generation,
        conditions: mergeConditions(
          rawTopology.status?.conditions,
          invalidSpecConditions(message, generation),
          this.#status.now(),
        ),
      });
      return 'stop';
    }
    const topology = parsed.resource as MessagingTopology;
    const relays: MTARelay[] = [];
    const pools: MMPPool[] = [];
    const protectedUids = new Set<string>();
    for (const member of rawMembers) {
      const result = parseResource(member, 0);
      if (result.ok) {
        if (result.resource.kind === 'MTARelay') relays.push(result.resource);
        else if (result.resource.kind === 'MMPPool') pools.push(result.resource);
        continue;
      }
      outcomes.set(`${member.kind}/${member.metadata?.name}`, 'invalid');
      protectedUids.add(member.metadata?.uid ?? '');
      const message = problemsMessage(result.problems);
      const generation = member.metadata?.generation ?? 0;
      await this.#events.record(member, 'Warning', 'InvalidSpec', message);
      await this.#status.write(member, {
        observedGeneration: generation,
        conditions: mergeConditions(
          member.status?.conditions,
          invalidSpecConditions(message, generation),
          this.#status.now(),
        ),
      });
    }
    if (rawTopology.metadata?.annotations?.[PAUSE_ANNOTATION] === 'true') {
      outcomes.set(topologyKey, 'paused');
      await this.#status.writePaused(rawTopology);
      return 'stop';
    }

    // render
    const { site, objects, warnings } = renderSite({
      topology,
      relays,
      pools,
      defaultImages: this.#defaultImages,
    });
    const uids: OwnerUids = {
      topology: rawTopology.metadata?.uid ?? '',
      members: new Map(
        [...relays, ...pools].map((m) => [`${m.kind}/${m.metadata.name}`, m.metadata.uid ?? '']),
      ),
    };
    const desired = objects.map((o) => withOwner(site, o, uids));

    // apply
    const secretError = await this.#secrets.ensure(site, uids);
    const { applied, errors } = await this.#applier.apply(site, desired);
    const applyErrors = secretError ? [secretError, ...errors] : errors;
    for (const error of applyErrors) {
      await this.#events.record(rawTopology, 'Warning', 'ApplyFailed', error.message);
    }
    if (applied.length > 0) {
      // One event and one log line per reconcile, not per object: a new site has dozens.
      const summary = `${applied.length} object${applied.length > 1 ? 's' : ''}: ${applied.join(', ')}`;
      this.#log.info(
        { topology: `${site.namespace}/${site.topology.metadata.name}`, objects: applied.length },
        'applied',
      );
      await this.#events.record(
        rawTopology,
        'Normal',
        'Applied',
        summary.length > 1000 ? `${summary.slice(0, 997)}...` : summary,
      );
    }
    const desiredKeys = new Set(desired.map((o) => `${o.kind}/${o.metadata?.name}`));
    return { site, warnings, uids, applyErrors, protectedUids, desiredKeys };
  }

  async #prune(
    rawTopology: WithStatus,
    rendered: Rendered,
    desiredKeys: ReadonlySet<string>,
    protectedUids: ReadonlySet<string>,
  ): Promise<void> {
    const { site, uids } = rendered;
    const name = site.topology.metadata.name;
    await pruneSite(this.#client, this.#events, this.#log, {
      namespace: site.namespace,
      siteName: name,
      topology: rawTopology,
      existing: this.#children(site.namespace, name),
      desiredKeys,
      siteUids: new Set([uids.topology, ...uids.members.values()]),
      protectedUids,
    });
  }

  #children(namespace: string, name: string): KubernetesObject[] {
    return CHILD_KINDS.flatMap((kind) =>
      this.#cache.list(kind, namespace).filter((o) => o.metadata?.labels?.[LABEL_TOPOLOGY] === name),
    );
  }

  #forget(key: string, namespace: string, name: string): void {
    const known = this.#rendered.get(key);
    if (known) this.#secrets.forget(known.uids.topology);
    this.#rendered.delete(key);
    this.#applier.forget(namespace, name);
  }
}
