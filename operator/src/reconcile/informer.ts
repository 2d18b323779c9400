// A list-then-watch cache of one kind, as client-go's reflector keeps one: list (in pages), then
// watch from the list's resourceVersion, resuming each watch where the last one ended. It lists
// again only when the watch cannot resume ("410 Gone": the revision was compacted away), so a list
// never races a watch and an older list can never overwrite a newer event. A periodic resync
// replays the store to `onChange`; it does not go back to the server.
//
// Why not client-node's informer (makeInformer/ListWatch): it reports an update with the new
// object only, and the operator needs the object before and after (a relay that moves to another
// topology must enqueue both sites); it stops on an error and leaves the restart to its caller,
// where this one restarts every failure with jittered backoff and tells a silent watch from a live
// one; it has no notion of a kind whose CRD may be absent (cert-manager's Certificate); and it
// goes through the generated models, which rename and drop fields, where this one keeps the raw
// JSON the API server sent, less what the operator never reads: managedFields always (most of an
// object), and for children everything but what `project` keeps (cached-child.ts).
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { backoffDelayMs } from '../../../images/lib/contract/backoff.ts';
import { DEFAULT_PAGE_SIZE, KubeApiError, type KubeClient } from './kube/rest-client.ts';

export type ChangeHandler = (
  before: KubernetesObject | undefined,
  after: KubernetesObject | undefined,
) => void;

/** How the informer pages, watches and backs off; tests shorten them. */
export interface WatchTimings {
  /** A watch that delivers nothing (not even a bookmark) for this long is taken for dead. */
  silenceMs: number;
  /** Asks the server to end each watch after this long; the next one resumes where it ended. */
  timeoutSeconds: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Objects per list page. */
  pageSize: number;
}

export const DEFAULT_WATCH_TIMINGS: WatchTimings = {
  silenceMs: 5 * 60_000,
  timeoutSeconds: 300,
  backoffBaseMs: 250,
  backoffMaxMs: 30_000,
  pageSize: DEFAULT_PAGE_SIZE,
};

export interface InformerOptions {
  kind: string;
  /** Namespace to watch; all namespaces when undefined. */
  namespace: string | undefined;
  labelSelector?: string;
  onChange: ChangeHandler;
  onRestart: (kind: string, reason: string) => void;
  log: Logger;
  /** A kind whose CRD may be absent (cert-manager's Certificate): treated as empty until it appears. */
  optional?: boolean;
  watch?: Partial<WatchTimings>;
  /**
   * What to keep of each object, applied to every list page and watch event as it arrives, so a
   * full object never outlives its page. Default: all of it but managedFields.
   */
  project?: (object: KubernetesObject) => KubernetesObject;
  /**
   * List and watch the metadata only (PartialObjectMetadata, as client-go's metadata informer), for
   * a kind whose spec, data and status the operator never reads: the API server sends, and the
   * operator parses, a fraction of each object.
   */
  metadataOnly?: boolean;
}

const keyOf = (o: KubernetesObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/** managedFields is the bulk of most objects and the operator never reads it: don't keep it. */
function withoutManagedFields(o: KubernetesObject): KubernetesObject {
  if (o.metadata?.managedFields) delete o.metadata.managedFields;
  return o;
}

/** Objects by namespace, then by "namespace/name": listing one namespace never scans the others. */
class NamespacedStore {
  readonly #byNamespace = new Map<string, Map<string, KubernetesObject>>();

  get(key: string): KubernetesObject | undefined {
    return this.#byNamespace.get(key.slice(0, key.indexOf('/')))?.get(key);
  }

  set(key: string, object: KubernetesObject): void {
    const namespace = key.slice(0, key.indexOf('/'));
    let objects = this.#byNamespace.get(namespace);
    if (!objects) this.#byNamespace.set(namespace, (objects = new Map<string, KubernetesObject>()));
    objects.set(key, object);
  }

  delete(key: string): void {
    const namespace = key.slice(0, key.indexOf('/'));
    const objects = this.#byNamespace.get(namespace);
    objects?.delete(key);
    if (objects?.size === 0) this.#byNamespace.delete(namespace);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  entries(): [string, KubernetesObject][] {
    return [...this.#byNamespace.values()].flatMap((objects) => [...objects]);
  }

  list(namespace?: string): KubernetesObject[] {
    if (namespace !== undefined) return [...(this.#byNamespace.get(namespace)?.values() ?? [])];
    return [...this.#byNamespace.values()].flatMap((objects) => [...objects.values()]);
  }

  clear(): void {
    this.#byNamespace.clear();
  }
}

export class Informer {
  readonly #client: KubeClient;
  readonly #options: InformerOptions;
  readonly #timings: WatchTimings;
  readonly #project: (object: KubernetesObject) => KubernetesObject;
  readonly #store = new NamespacedStore();
  readonly #stop = new AbortController();
  #synced = false;
  #loop: Promise<void> | undefined;
  #syncedWaiters: ((synced: boolean) => void)[] = [];

  constructor(client: KubeClient, options: InformerOptions) {
    this.#client = client;
    this.#options = options;
    this.#timings = { ...DEFAULT_WATCH_TIMINGS, ...options.watch };
    this.#project = options.project ?? withoutManagedFields;
  }

  get kind(): string {
    return this.#options.kind;
  }

  get synced(): boolean {
    return this.#synced;
  }

  get(namespace: string, name: string): KubernetesObject | undefined {
    return this.#store.get(`${namespace}/${name}`);
  }

  list(namespace?: string): KubernetesObject[] {
    return this.#store.list(namespace);
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    // Whoever waits for a first list that will now never come is told so, not left waiting: an
    // operator stopped before its caches synced (an unreachable API server) must still exit.
    for (const wake of this.#syncedWaiters.splice(0)) wake(false);
    await this.#loop;
  }

  /** True once the first list is in the cache; false if the informer was stopped before that. */
  waitForSync(): Promise<boolean> {
    if (this.#synced) return Promise.resolve(true);
    if (this.#stop.signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => this.#syncedWaiters.push(resolve));
  }

  /**
   * Replaces the store with a fresh list, reporting what changed since the last one. Runs only
   * while no watch does: the watch that follows starts at this list's resourceVersion.
   */
  async #relist(): Promise<string> {
    const { kind, namespace, labelSelector, onChange, metadataOnly } = this.#options;
    const { items, resourceVersion } = await this.#client.list(kind, namespace, {
      pageSize: this.#timings.pageSize,
      signal: this.#stop.signal,
      project: this.#project,
      ...(labelSelector ? { labelSelector } : {}),
      ...(metadataOnly ? { metadataOnly } : {}),
    });
    const fresh = new Map(items.map((o) => [keyOf(o), o]));
    for (const [key, old] of this.#store.entries()) if (!fresh.has(key)) onChange(old, undefined);
    for (const [key, object] of fresh) {
      const old = this.#store.get(key);
      if (old?.metadata?.resourceVersion !== object.metadata?.resourceVersion) onChange(old, object);
    }
    this.#store.clear();
    for (const [key, object] of fresh) this.#store.set(key, object);
    this.#markSynced();
    return resourceVersion;
  }

  #markSynced(): void {
    if (this.#synced) return;
    this.#synced = true;
    for (const wake of this.#syncedWaiters.splice(0)) wake(true);
  }

  async #run(): Promise<void> {
    const { kind, namespace, labelSelector, onChange, onRestart, log, metadataOnly } = this.#options;
    let failures = 0;
    let resourceVersion: string | undefined;
    while (!this.#stop.signal.aborted) {
      try {
        resourceVersion ??= await this.#relist();
        let silent = false;
        for await (const event of this.#client.watch(kind, namespace, {
          resourceVersion,
          ...(labelSelector ? { labelSelector } : {}),
          signal: this.#stop.signal,
          silenceMs: this.#timings.silenceMs,
          timeoutSeconds: this.#timings.timeoutSeconds,
          onSilent: () => (silent = true),
          ...(metadataOnly ? { metadataOnly } : {}),
        })) {
          failures = 0;
          if (event.type === 'ERROR') {
            if (event.object.code === 410)
              throw new KubeApiError(410, 'Expired', event.object.message ?? 'resourceVersion too old');
            throw new KubeApiError(
              event.object.code ?? 500,
              event.object.reason ?? 'WatchError',
              event.object.message ?? 'watch error',
            );
          }
          resourceVersion = event.object.metadata?.resourceVersion ?? resourceVersion;
          if (event.type === 'BOOKMARK') continue;
          const key = keyOf(event.object);
          const before = this.#store.get(key);
          if (event.type === 'DELETED') {
            this.#store.delete(key);
            onChange(before, undefined);
          } else {
            const object = this.#project(event.object);
            this.#store.set(key, object);
            onChange(before, object);
          }
        }
        // The server ends every watch after timeoutSeconds, or it went silent: resume from where we are.
        if (!this.#stop.signal.aborted) onRestart(kind, silent ? 'silent' : 'closed');
      } catch (error) {
        if (this.#stop.signal.aborted) break;
        const gone = error instanceof KubeApiError && error.status === 410;
        if (this.#options.optional === true && error instanceof KubeApiError && error.status === 404) {
          // The kind's CRD is not installed: nothing to cache. Look again now and then, quietly.
          this.#markSynced();
          await this.#pause(this.#timings.backoffMaxMs);
          continue;
        }
        if (gone) resourceVersion = undefined;
        failures++;
        // Jitter, so that every watch failing at once (an API server restart) does not return at once.
        const jittered = backoffDelayMs(failures, {
          initialMs: this.#timings.backoffBaseMs,
          maxMs: this.#timings.backoffMaxMs,
          jitter: 0.5,
        });
        onRestart(kind, gone ? 'expired' : 'error');
        log.warn(
          { kind, err: (error as Error).message, retryInMs: Math.round(jittered) },
          gone ? 'watch expired; relisting' : 'watch failed; retrying',
        );
        await this.#pause(jittered);
      }
    }
  }

  #pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#stop.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
  }

  /**
   * Hands every cached object to `onChange` again (before = after), as client-go's resync does, so
   * each is checked afresh. It reads nothing from the server: the watch keeps the cache current,
   * and a list here would race it (an older list overwriting a newer event).
   */
  resync(): void {
    for (const object of this.#store.list()) this.#options.onChange(object, object);
  }
}
