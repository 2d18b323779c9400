// Applying a site's children with server-side apply, and only those that need it. Each applied
// object carries a hash of itself (cached-child.ts, APPLIED_HASH), and what the server answered to
// our last apply is remembered (that hash and the child's version: generation, labels and
// annotations). A child still at that version, or stamped with the hash we would apply and written
// by no one else since, with none of our fields removed (after a restart, with nothing remembered, a
// removal made while the operator was away cannot be told), needs nothing: the cache need not keep
// its spec to tell, and the server's normalising of a value (a quantity, a dropped empty field)
// never makes a child look changed.
import { createHash } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Finding, Site } from '../../render/site.ts';
import { APPLIED_HASH, childVersion, holdsApplied, ownFieldsOf, projectChild } from '../cached-child.ts';
import type { KubeClient } from '../kube/rest-client.ts';
import { ownerOfChild } from '../ownership.ts';
import { describeApplyError } from './apply-errors.ts';

/** Reads the informers' caches. */
export interface Cache {
  get(kind: string, namespace: string, name: string): KubernetesObject | undefined;
  list(kind: string, namespace: string): KubernetesObject[];
}

interface InSync {
  /** sha1 of the object as we last sent (or found) it; 28 bytes however large the object. */
  readonly hash: string;
  /** The live object's version (cached-child.ts childVersion) when it was known to hold exactly that. */
  readonly version: string;
  /** The digest of our field set then (cached-child.ts ownFieldsOf). */
  readonly ownFields: string;
}

export interface ApplyReport {
  /** "created ConfigMap x", "updated StatefulSet y": for one event and one log line per reconcile. */
  readonly applied: string[];
  readonly errors: Finding[];
}

const childKey = (o: KubernetesObject) => `${o.kind}/${o.metadata?.name}`;
const hashOf = (object: KubernetesObject) =>
  createHash('sha1').update(JSON.stringify(object)).digest('base64');

/** The object as applied: stamped with the hash of what it was before the stamp. */
function stamped(object: KubernetesObject, hash: string): KubernetesObject {
  const metadata = object.metadata ?? {};
  return {
    ...object,
    metadata: { ...metadata, annotations: { ...metadata.annotations, [APPLIED_HASH]: hash } },
  };
}

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
   * at: then nobody has touched its spec, labels or annotations (status writes do not count), and a
   * site whose inputs did not change needs no render.
   */
  inSync(namespace: string, siteName: string): boolean {
    const children = this.#sites.get(`${namespace}/${siteName}`);
    if (!children || children.size === 0) return false;
    for (const [key, known] of children) {
      const slash = key.indexOf('/');
      const live = this.#cache.get(key.slice(0, slash), namespace, key.slice(slash + 1));
      if (!live || childVersion(live) !== known.version) return false;
    }
    return true;
  }

  /** The children recorded for a site ("Kind/name") by its last apply: all it wants, if that was clean. */
  childKeys(namespace: string, siteName: string): ReadonlySet<string> {
    return new Set(this.#sites.get(`${namespace}/${siteName}`)?.keys());
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
      if (live && last?.hash === hash && last.version === childVersion(live)) {
        children.set(key, last);
        continue;
      }
      // Changed since, but maybe not by a hand (the Deployment controller's revision annotation):
      // still ours if stamped so, written by no one else, and none of our fields removed.
      const knownFields = last?.hash === hash ? last.ownFields : undefined;
      if (live && holdsApplied(live, object, hash, knownFields)) {
        children.set(key, { hash, version: childVersion(live), ownFields: ownFieldsOf(live) });
        continue;
      }
      try {
        // Only the answer's version is kept: its metadata is all it needs (childVersion).
        const answer = projectChild(
          await this.#client.apply(stamped(object, hash), { answer: 'metadata' }),
          this.#client.fieldManager,
        );
        children.set(key, { hash, version: childVersion(answer), ownFields: ownFieldsOf(answer) });
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
