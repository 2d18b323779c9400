// What the benchmark itself asks of the API server, as admin: the sites' namespaces and resources
// put in place before a measurement, the API server's request counters, and a watch on the sites'
// resources that tells when the operator has written every status.
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { applyManifests } from '../../testing/control-plane/apply.ts';
import { KubeClient } from '../../operator/src/reconcile/kube/rest-client.ts';

/** Server-side applies `objects` over `concurrency` connections (setup, not measured). */
export async function applyConcurrently(
  kubeConfig: KubeConfig,
  objects: readonly KubernetesObject[],
  concurrency = 8,
): Promise<void> {
  const lanes: KubernetesObject[][] = Array.from({ length: concurrency }, () => []);
  objects.forEach((o, i) => lanes[i % concurrency]!.push(o));
  await Promise.all(lanes.map((lane) => applyManifests(kubeConfig, lane, { fieldManager: 'bench-setup' })));
}

/** One client (one connection pool) per kubeconfig for the benchmark's own requests. */
const clients = new WeakMap<KubeConfig, KubeClient>();
function clientFor(kubeConfig: KubeConfig): KubeClient {
  let client = clients.get(kubeConfig);
  if (!client)
    clients.set(kubeConfig, (client = new KubeClient(kubeConfig, { fieldManager: 'bench-observer' })));
  return client;
}

function getText(kubeConfig: KubeConfig, path: string): Promise<string> {
  return clientFor(kubeConfig).getText(path, { signal: AbortSignal.timeout(15_000) });
}

export type Counts = Record<string, number>;

/** Sums a Prometheus counter by one of its labels. */
export function sumCounterBy(text: string, metric: string, label: string): Counts {
  const counts: Counts = {};
  const line = new RegExp(`^${metric}\\{([^}]*)\\} (\\S+)$`, 'gm');
  for (const [, labels = '', value = '0'] of text.matchAll(line)) {
    const key = new RegExp(`(?:^|,)${label}="([^"]*)"`).exec(labels)?.[1] ?? '';
    counts[key] = (counts[key] ?? 0) + Number(value);
  }
  return counts;
}

/** Requests the API server has served so far, by verb (GET, LIST, WATCH, POST, APPLY, …). */
export async function apiserverRequestsByVerb(kubeConfig: KubeConfig): Promise<Counts> {
  return sumCounterBy(await getText(kubeConfig, '/metrics'), 'apiserver_request_total', 'verb');
}

export function difference(after: Counts, before: Counts): Counts {
  const result: Counts = {};
  for (const [key, value] of Object.entries(after)) {
    const delta = value - (before[key] ?? 0);
    if (delta !== 0) result[key] = delta;
  }
  return result;
}

const TRACKED_KINDS = ['MessagingTopology', 'MTARelay', 'MMPPool'] as const;

type Tracked = KubernetesObject & { status?: { observedGeneration?: number } };

/**
 * Watches the sites' own resources in the given namespaces and notes when each one's status says
 * it has been reconciled (status.observedGeneration = metadata.generation), and when any status
 * last changed. One watch per kind, opened before the operator starts; the operator makes
 * (many) more of its own.
 */
export class StatusTracker {
  readonly #client: KubeClient;
  readonly #namespaces: ReadonlySet<string>;
  readonly #stop = new AbortController();
  readonly #observed = new Map<string, boolean>();
  readonly #lastStatus = new Map<string, string>();
  readonly #loops: Promise<void>[] = [];
  #expected = 0;
  /** Date.now() when every tracked resource first had its status observed. */
  convergedAt: number | undefined;
  /** Date.now() of the last status change seen. */
  lastStatusChangeAt: number | undefined;
  statusChanges = 0;
  /** Every status change seen, for looking into what kept changing. */
  readonly changes: { at: number; key: string; status: unknown }[] = [];
  #failure: Error | undefined;

  constructor(kubeConfig: KubeConfig, namespaces: readonly string[], expected: number) {
    this.#client = clientFor(kubeConfig);
    this.#namespaces = new Set(namespaces);
    this.#expected = expected;
  }

  async start(): Promise<void> {
    for (const kind of TRACKED_KINDS) {
      const { items, resourceVersion } = await this.#client.list<Tracked>(kind, undefined);
      for (const item of items) this.#see(item, false);
      this.#loops.push(this.#watch(kind, resourceVersion));
    }
  }

  #see(object: Tracked, deleted: boolean): void {
    const namespace = object.metadata?.namespace ?? '';
    if (!this.#namespaces.has(namespace)) return;
    const key = `${object.kind}/${namespace}/${object.metadata?.name}`;
    const status = JSON.stringify(object.status ?? {});
    if (this.#lastStatus.has(key) && this.#lastStatus.get(key) !== status) {
      this.statusChanges++;
      this.lastStatusChangeAt = Date.now();
      this.changes.push({ at: this.lastStatusChangeAt, key, status: object.status ?? {} });
    }
    this.#lastStatus.set(key, status);
    if (deleted) this.#observed.delete(key);
    else this.#observed.set(key, object.status?.observedGeneration === object.metadata?.generation);
    if (this.convergedAt === undefined && this.observedCount() === this.#expected) {
      this.convergedAt = Date.now();
    }
  }

  observedCount(): number {
    let count = 0;
    for (const observed of this.#observed.values()) if (observed) count++;
    return count;
  }

  async #watch(kind: string, resourceVersion: string): Promise<void> {
    try {
      for await (const event of this.#client.watch(kind, undefined, {
        resourceVersion,
        signal: this.#stop.signal,
        silenceMs: 10 * 60_000,
        timeoutSeconds: 600,
      })) {
        if (event.type === 'ERROR') throw new Error(`watch ${kind}: ${event.object.message}`);
        if (event.type === 'BOOKMARK') continue;
        this.#see(event.object as Tracked, event.type === 'DELETED');
      }
    } catch (error) {
      this.#failure = error as Error;
    }
  }

  /** Throws if a watch failed: the timings would be wrong. */
  check(): void {
    if (this.#failure) throw this.#failure;
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await Promise.all(this.#loops);
  }
}

/**
 * Counts the operator's children in the namespaces by kind (after a measurement, not timed): every
 * object labelled managed-by=mtopo, plus the internal Secrets.
 */
export async function countChildren(
  kubeConfig: KubeConfig,
  namespaces: readonly string[],
  kinds: readonly string[],
): Promise<Counts> {
  const client = clientFor(kubeConfig);
  const wanted = new Set(namespaces);
  const counts: Counts = {};
  for (const kind of kinds) {
    const { items } = await client.list(kind, undefined, {
      labelSelector: 'app.kubernetes.io/managed-by=mtopo',
    });
    counts[kind] = items.filter((o) => wanted.has(o.metadata?.namespace ?? '')).length;
  }
  return counts;
}
