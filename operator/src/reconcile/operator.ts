// The operator: informers feed a work queue keyed by site ("namespace/topology"); workers reconcile
// one site at a time per key; a periodic resync re-checks every site from the caches; only the
// elected leader runs informers and workers.
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { KINDS } from '../api/kinds.ts';
import type { DefaultImages } from '../render/images.ts';
import { LABEL_TOPOLOGY, MANAGED_BY } from '../render/labels.ts';
import { CHILD_KINDS } from '../render/render.ts';
import { projectChild, STATUS_KINDS } from './cached-child.ts';
import { EventRecorder } from './events.ts';
import { Informer, type WatchTimings } from './informer.ts';
import type { ClusterAccess } from './kube/cluster-access.ts';
import { KubeClient } from './kube/rest-client.ts';
import { LeaderElector, type LeaderElectionOptions } from './leader-election.ts';
import type { OperatorMetrics } from './metrics.ts';
import { SiteReconciler, type Cache } from './site-reconciler.ts';
import { WorkQueue } from './work-queue.ts';

export interface OperatorOptions {
  /** The API server and credentials: the operator's own (cluster-access.ts), or a client-node KubeConfig. */
  kubeConfig: ClusterAccess | KubeConfig;
  /** Watch one namespace; all namespaces when undefined. */
  namespace: string | undefined;
  workers: number;
  resyncMs: number;
  fieldManager: string;
  leaderElection: { enabled: false } | ({ enabled: true } & Omit<LeaderElectionOptions, 'log'>);
  log: Logger;
  metrics: OperatorMetrics;
  /** The image each program runs where a topology's spec.images names none (--default-image-*). */
  defaultImages?: DefaultImages;
  /** Informer timings (the informer's own type, so a misspelt one does not compile); tests shorten them. */
  watch?: Partial<WatchTimings>;
}

const OWN_KINDS = KINDS.map((k) => k.kind);

function siteKeysOf(object: KubernetesObject | undefined): string[] {
  if (!object) return [];
  const namespace = object.metadata?.namespace ?? '';
  if (object.kind === 'MessagingTopology') return [`${namespace}/${object.metadata?.name}`];
  const ref = (object as { spec?: { topologyRef?: { name?: string } } }).spec?.topologyRef?.name;
  if (ref) return [`${namespace}/${ref}`];
  const label = object.metadata?.labels?.[LABEL_TOPOLOGY];
  return label ? [`${namespace}/${label}`] : [];
}

export class Operator {
  readonly client: KubeClient;
  readonly queue: WorkQueue;
  readonly #options: OperatorOptions;
  readonly #informers = new Map<string, Informer>();
  readonly #reconciler: SiteReconciler;
  readonly #elector: LeaderElector | undefined;
  #resyncTimer: NodeJS.Timeout | undefined;
  #workers: Promise<void> | undefined;
  #started = false;

  constructor(options: OperatorOptions) {
    this.#options = options;
    const { metrics, log } = options;
    this.client = new KubeClient(options.kubeConfig, {
      fieldManager: options.fieldManager,
      onRequest: (verb, kind) => metrics.apiRequests.inc({ verb, kind }),
    });
    this.queue = new WorkQueue({
      baseDelayMs: 250,
      maxDelayMs: 5 * 60_000,
      retriesPerSecond: 10,
      retryBurst: 100,
    });
    const enqueue = (before: KubernetesObject | undefined, after: KubernetesObject | undefined) => {
      for (const key of new Set([...siteKeysOf(before), ...siteKeysOf(after)])) this.queue.add(key);
      metrics.queueDepth.set(this.queue.depth);
    };
    const informer = (
      kind: string,
      extra: {
        labelSelector?: string;
        optional?: boolean;
        project?: (o: KubernetesObject) => KubernetesObject;
        metadataOnly?: boolean;
      } = {},
    ) =>
      this.#informers.set(
        kind,
        new Informer(this.client, {
          kind,
          namespace: options.namespace,
          onChange: enqueue,
          onRestart: (k, reason) => metrics.watchRestarts.inc({ kind: k, reason }),
          log,
          ...(options.watch ? { watch: options.watch } : {}),
          ...extra,
        }),
      );
    for (const kind of OWN_KINDS) informer(kind);
    for (const kind of CHILD_KINDS) {
      informer(kind, {
        labelSelector: `app.kubernetes.io/managed-by=${MANAGED_BY}`,
        optional: kind === 'Certificate',
        // Of a child the operator reads its metadata and status only (cached-child.ts), and of
        // most kinds no status: those it lists and watches as metadata.
        project: (o) => projectChild(o, options.fieldManager),
        metadataOnly: !STATUS_KINDS.has(kind),
      });
    }
    const cache: Cache = {
      get: (kind, namespace, name) => this.#informers.get(kind)?.get(namespace, name),
      list: (kind, namespace) => this.#informers.get(kind)?.list(namespace) ?? [],
    };
    this.#reconciler = new SiteReconciler(this.client, cache, new EventRecorder(this.client, log), log, {
      ...(options.defaultImages ? { defaultImages: options.defaultImages } : {}),
    });
    const election = options.leaderElection;
    this.#elector = election.enabled ? new LeaderElector(this.client, { ...election, log }) : undefined;
  }

  get leading(): boolean {
    return this.#elector ? this.#elector.leading : this.#started;
  }

  /** Ready when this replica leads with synced caches, or stands by ready to take over. */
  readiness(): { ok: boolean; reason: string } {
    if (this.#elector && !this.#elector.leading)
      return { ok: true, reason: 'standby: another replica leads' };
    const unsynced = [...this.#informers.values()].filter((i) => !i.synced).map((i) => i.kind);
    return unsynced.length === 0
      ? { ok: true, reason: 'leading; caches synced' }
      : { ok: false, reason: `syncing ${unsynced.join(', ')}` };
  }

  start(onLeadershipLost: () => void = () => {}): void {
    if (this.#elector) {
      void this.#elector.run(
        () => this.#lead(),
        () => {
          this.#options.metrics.leader.set(0);
          onLeadershipLost();
        },
      );
    } else {
      this.#lead();
    }
  }

  #lead(): void {
    if (this.#started) return;
    this.#started = true;
    const { log, metrics, workers, resyncMs } = this.#options;
    metrics.leader.set(1);
    for (const informer of this.#informers.values()) informer.start();
    this.#workers = (async () => {
      const synced = await Promise.all([...this.#informers.values()].map((i) => i.waitForSync()));
      if (!synced.every(Boolean)) return; // stopped before the caches ever synced
      log.info({ namespace: this.#options.namespace ?? '(all)' }, 'caches synced; reconciling');
      await this.queue.run(
        workers,
        (key) => this.#reconcileKey(key),
        (key, error) => {
          metrics.reconciles.inc({ kind: 'MessagingTopology', result: 'error' });
          log.error({ site: key, err: (error as Error).message }, 'reconcile failed');
        },
      );
    })();
    this.#resyncTimer = setInterval(() => this.resync(), resyncMs);
    this.#resyncTimer.unref();
  }

  async #reconcileKey(key: string): Promise<'done' | 'retry'> {
    const { metrics } = this.#options;
    const [namespace = '', name = ''] = key.split('/');
    const timer = metrics.reconcileDuration.startTimer();
    const report = await this.#reconciler.reconcile(namespace, name);
    timer();
    // One count per resource the site reconcile acted for: a relay with an invalid spec shows as
    // {kind="MTARelay", result="invalid"}, not as one more MessagingTopology reconcile.
    for (const { owner, outcome } of report.resources) {
      metrics.reconciles.inc({ kind: owner.kind, result: outcome });
    }
    if (report.rendered) metrics.renders.inc();
    if (report.result === 'retry') metrics.retries.inc();
    metrics.queueDepth.set(this.queue.depth);
    return report.result;
  }

  /**
   * Re-checks every site against the caches, as client-go's resync replays its store: the watches
   * keep the caches current, so nothing is listed again (a list racing the watch could roll the
   * cache back to an older state).
   */
  resync(): void {
    for (const kind of OWN_KINDS) this.#informers.get(kind)?.resync();
  }

  /**
   * Stops reconciling, then hands the lease back: workers finish their keys first, so a standby
   * that takes over never works beside this replica.
   */
  async stop(): Promise<void> {
    clearInterval(this.#resyncTimer);
    this.queue.shutdown();
    await Promise.all([...this.#informers.values()].map((i) => i.stop()));
    await this.#workers;
    await this.#elector?.stop();
    this.#options.metrics.leader.set(0);
  }
}
