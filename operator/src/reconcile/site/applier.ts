// Applying a site's children with server-side apply, and only those that need it. What the server
// answered to our last apply of each object is remembered (a hash of what we sent and the
// resourceVersion it came back with): if the live object is still that version and we would send
// the same again, there is nothing to do, even where the server normalises a value (a quantity, a
// dropped empty field) so the live object reads differently from what we sent.
import { createHash } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Finding, Site } from '../../render/site.ts';
import type { KubeClient } from '../kube/rest-client.ts';
import { containsDesired, ownerOfChild } from '../ownership.ts';
import { describeApplyError } from './apply-errors.ts';

/** Reads the informers' caches. */
export interface Cache {
  get(kind: string, namespace: string, name: string): KubernetesObject | undefined;
  list(kind: string, namespace: string): KubernetesObject[];
}

interface InSync {
  /** sha1 of the object as we last sent (or found) it; 28 bytes however large the object. */
  readonly hash: string;
  /** The live object's resourceVersion when it was known to hold exactly that. */
  readonly resourceVersion: string | undefined;
}

export interface ApplyReport {
  /** "created ConfigMap x", "updated StatefulSet y": for one event and one log line per reconcile. */
  readonly applied: string[];
  readonly errors: Finding[];
}

const childKey = (o: KubernetesObject) => `${o.kind}/${o.metadata?.name}`;
const hashOf = (object: KubernetesObject) =>
  createHash('sha1').update(JSON.stringify(object)).digest('base64');

export class ChildApplier {
  readonly #client: KubeClient;
  readonly #cache: Cache;
  readonly #log: Logger;
  /** Per site ("namespace/name"), per child ("Kind/name"). */
  readonly #sites = new Map<string, Map<string, InSync>>();

  constructor(client: KubeClient, cache: Cache, log: Logger) {
    this.#client = client;
    this.#cache = cache;
    this.#log = log;
  }

  /**
   * Whether every child this site had after its last apply is still live at the version we left it
   * at: then nobody has touched them, and a site whose inputs did not change needs no render.
   */
  inSync(namespace: string, siteName: string): boolean {
    const children = this.#sites.get(`${namespace}/${siteName}`);
    if (!children || children.size === 0) return false;
    for (const [key, known] of children) {
      const slash = key.indexOf('/');
      const live = this.#cache.get(key.slice(0, slash), namespace, key.slice(slash + 1));
      if (!live || live.metadata?.resourceVersion !== known.resourceVersion) return false;
    }
    return true;
  }

  async apply(site: Site, desired: readonly KubernetesObject[]): Promise<ApplyReport> {
    const namespace = site.namespace;
    const siteName = site.topology.metadata.name;
    const previous = this.#sites.get(`${namespace}/${siteName}`);
    const children = new Map<string, InSync>();
    const applied: string[] = [];
    const errors: Finding[] = [];
    for (const object of desired) {
      const kind = object.kind ?? '';
      const name = object.metadata?.name ?? '';
      const key = childKey(object);
      const live = this.#cache.get(kind, namespace, name);
      const hash = hashOf(object);
      const last = previous?.get(key);
      const liveVersion = live?.metadata?.resourceVersion;
      if (live && last?.hash === hash && last.resourceVersion === liveVersion) {
        children.set(key, last);
        continue;
      }
      if (live && containsDesired(live, object)) {
        children.set(key, { hash, resourceVersion: liveVersion });
        continue;
      }
      try {
        const answer = await this.#client.apply(object);
        children.set(key, { hash, resourceVersion: answer.metadata?.resourceVersion });
        const verb = live ? 'updated' : 'created';
        this.#log.debug({ topology: `${namespace}/${siteName}`, kind, name }, verb);
        applied.push(`${verb} ${kind} ${name}`);
      } catch (error) {
        errors.push({ owner: ownerOfChild(site, object), message: describeApplyError(kind, name, error) });
        this.#log.error(
          { topology: `${namespace}/${siteName}`, kind, name, err: (error as Error).message },
          'apply failed',
        );
      }
    }
    this.#sites.set(`${namespace}/${siteName}`, children);
    return { applied, errors };
  }

  forget(namespace: string, siteName: string): void {
    this.#sites.delete(`${namespace}/${siteName}`);
  }
}
