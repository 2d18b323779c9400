// A small Kubernetes REST client that sends and receives objects as plain JSON. The generated
// client's model serializer renames and drops fields it does not know (`from` → `_from`, CRD
// `default`, unknown kinds), which server-side apply cannot afford: what we send must be exactly the
// object we rendered. Auth and TLS come from @kubernetes/client-node's KubeConfig (tokens, client
// certificates, exec credential plugins), applied afresh to every request.
import { createHash } from 'node:crypto';
import type https from 'node:https';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { Agent, fetch } from 'undici';
import type { ClusterAccess } from './cluster-access.ts';
import {
  apiVersionOf,
  collectionPath,
  objectPath,
  RESOURCES,
  resourceOf,
  type ResourceType,
} from './resources.ts';

export class KubeApiError extends Error {
  readonly status: number;
  readonly reason: string;
  readonly details: unknown;
  constructor(status: number, reason: string, message: string, details?: unknown) {
    super(message);
    this.name = 'KubeApiError';
    this.status = status;
    this.reason = reason;
    this.details = details;
  }
}

export interface ListResult<T extends KubernetesObject = KubernetesObject> {
  items: T[];
  resourceVersion: string;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubernetesObject & { code?: number; reason?: string; message?: string };
}

type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const HttpMethod = { GET: 'GET', POST: 'POST', PUT: 'PUT', PATCH: 'PATCH', DELETE: 'DELETE' } as const;

const text = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('utf8') : undefined;

/**
 * A client-node KubeConfig as ClusterAccess (tests and tools hold one already). Only its methods
 * are called, so the operator, which loads its own (cluster-access.ts), never imports the package.
 */
function accessOfKubeConfig(config: KubeConfig): ClusterAccess {
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig names no current cluster');
  return {
    server: cluster.server.replace(/\/$/, ''),
    async credentials() {
      const options: https.RequestOptions = {};
      await config.applyToHTTPSOptions(options);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(options.headers ?? {})) {
        if (value !== undefined) headers[name] = String(value);
      }
      if (options.auth) headers.Authorization = `Basic ${Buffer.from(options.auth).toString('base64')}`;
      return {
        headers,
        tls: {
          ca: text(options.ca),
          cert: text(options.cert),
          key: text(options.key),
          servername: options.servername ?? undefined,
          rejectUnauthorized: options.rejectUnauthorized,
        },
      };
    },
  };
}

export const DEFAULT_PAGE_SIZE = 500;

export interface ListPage<T extends KubernetesObject = KubernetesObject> {
  items: T[];
  metadata: { resourceVersion: string; continue?: string };
}

/** One GET of a collection with the given `limit`/`continue` query (none: the whole list). */
export type PageFetcher<T extends KubernetesObject> = (query: Record<string, string>) => Promise<ListPage<T>>;

/**
 * Follows continue tokens to the end. The resourceVersion is the first page's: every page is read
 * at that revision, so a watch from it misses nothing. An expired token means starting over
 * without a limit (one consistent read) rather than stitching pages from two revisions.
 */
export async function listAllPages<T extends KubernetesObject>(
  fetchPage: PageFetcher<T>,
  pageSize: number,
): Promise<ListResult<T>> {
  const items: T[] = [];
  let first = await fetchPage({ limit: String(pageSize) });
  const resourceVersion = first.metadata.resourceVersion;
  items.push(...first.items);
  for (let token = first.metadata.continue; token;) {
    let next: ListPage<T>;
    try {
      next = await fetchPage({ limit: String(pageSize), continue: token });
    } catch (error) {
      if (!(error instanceof KubeApiError && error.status === 410)) throw error;
      first = await fetchPage({});
      return { items: first.items, resourceVersion: first.metadata.resourceVersion };
    }
    items.push(...next.items);
    token = next.metadata.continue;
  }
  return { items, resourceVersion };
}

/** Requests by verb, so tests and metrics can count what the operator did. */
export type RequestCounter = (verb: string, kind: string) => void;

/** The API server answers in JSON, except for some errors ("404 page not found" for an unknown group). */
function parseBody(text: string): Record<string, unknown> {
  if (!text) return {};
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { message: text.trim() };
  }
}

/**
 * What a write's answer holds: the whole object as stored, or only its metadata (the API server's
 * PartialObjectMetadata: no spec, data or status). A caller that reads nothing but the answer's
 * resourceVersion and labels asks for the metadata: the server encodes less, and the client parses
 * less (a StatefulSet's answer is mostly its pod template and status).
 */
export type Answer = 'object' | 'metadata';

/**
 * The same for reads: a list or watch of metadata only answers PartialObjectMetadataList (a list)
 * and PartialObjectMetadata (each watch event), as client-go's metadata informer asks. The kind an
 * item carries is then PartialObjectMetadata; the client puts the listed kind back.
 */
type Accept = Answer | 'metadata-list';

const ACCEPT: Record<Accept, string> = {
  object: 'application/json',
  metadata: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1',
  'metadata-list': 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1',
};

interface RequestInit {
  body?: unknown;
  accept?: Accept;
  contentType?: string;
  query?: Record<string, string>;
  signal?: AbortSignal;
}

export class KubeClient {
  readonly #access: ClusterAccess;
  readonly #server: string;
  readonly #fieldManager: string;
  readonly #count: RequestCounter;
  /**
   * One connection pool while the TLS credentials stay the same. The kubeconfig's authentication is
   * applied to every request, since tokens rotate and so do client certificates from an exec
   * credential plugin (a cloud's short-lived certificates); the pool is rebuilt only when the TLS
   * material changes. A new pool per request meant a TLS handshake per request, which cost the
   * operator 3x the API server's floor.
   */
  #dispatcher: Agent | undefined;
  /** Discovery by apiVersion, for kinds outside the fixed table (see #typeOf). */
  readonly #discovery = new Map<string, Promise<{ name: string; kind: string; namespaced: boolean }[]>>();
  /** sha256 of the TLS material the pool was built with. */
  #tlsFingerprint = '';

  /** `config`: the operator's own ClusterAccess, or (in tests and tools) a client-node KubeConfig. */
  constructor(
    config: ClusterAccess | KubeConfig,
    options: { fieldManager: string; onRequest?: RequestCounter },
  ) {
    this.#access = 'applyToHTTPSOptions' in config ? accessOfKubeConfig(config) : config;
    this.#server = this.#access.server;
    this.#fieldManager = options.fieldManager;
    this.#count = options.onRequest ?? (() => {});
  }

  get fieldManager(): string {
    return this.#fieldManager;
  }

  /** The request's headers (credentials included), and the pool for its TLS material. */
  async #authenticate(): Promise<Record<string, string>> {
    const { headers, tls } = await this.#access.credentials();
    const fingerprint = createHash('sha256');
    for (const part of [tls.ca, tls.cert, tls.key, tls.servername, String(tls.rejectUnauthorized)]) {
      fingerprint.update(part ?? '');
      fingerprint.update('\0');
    }
    const digest = fingerprint.digest('base64');
    if (digest !== this.#tlsFingerprint || !this.#dispatcher) {
      const previous = this.#dispatcher;
      this.#dispatcher = new Agent({
        connect: {
          ...(tls.ca ? { ca: tls.ca } : {}),
          ...(tls.cert ? { cert: tls.cert } : {}),
          ...(tls.key ? { key: tls.key } : {}),
          ...(tls.servername ? { servername: tls.servername } : {}),
          ...(tls.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
        },
      });
      this.#tlsFingerprint = digest;
      // Requests (and watches) still running on the old pool finish there.
      void previous?.close().catch(() => undefined);
    }
    return headers;
  }

  async #request(method: HttpMethod, path: string, init: RequestInit = {}) {
    const url = new URL(this.#server + path);
    for (const [k, v] of Object.entries(init.query ?? {})) url.searchParams.set(k, v);
    const credentials = await this.#authenticate();
    const headers: Record<string, string> = { ...credentials, Accept: ACCEPT[init.accept ?? 'object'] };
    if (init.body !== undefined) headers['Content-Type'] = init.contentType ?? 'application/json';
    const response = await fetch(url, {
      method,
      headers,
      dispatcher: this.#dispatcher,
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      ...(init.signal ? { signal: init.signal } : {}),
    });
    return response;
  }

  async #json<T>(method: HttpMethod, verb: string, kind: string, path: string, init: RequestInit = {}) {
    this.#count(verb, kind);
    const response = await this.#request(method, path, init);
    const text = await response.text();
    const body = parseBody(text);
    if (!response.ok) {
      throw new KubeApiError(
        response.status,
        typeof body.reason === 'string' ? body.reason : response.statusText,
        typeof body.message === 'string' ? body.message : `${method} ${path}: HTTP ${response.status}`,
        body.details,
      );
    }
    return body as T;
  }

  /** GET of a path that is no resource (/metrics, /readyz), as text. */
  async getText(path: string, options: { signal?: AbortSignal } = {}): Promise<string> {
    this.#count('get', 'NonResource');
    const response = await this.#request(HttpMethod.GET, path, options);
    const body = await response.text();
    if (!response.ok)
      throw new KubeApiError(response.status, response.statusText, `GET ${path}: ${body.trim()}`);
    return body;
  }

  async get<T extends KubernetesObject>(
    kind: string,
    namespace: string | undefined,
    name: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<T | undefined> {
    try {
      return await this.#json<T>(
        HttpMethod.GET,
        'get',
        kind,
        objectPath(resourceOf(kind), namespace, name),
        options,
      );
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  /**
   * Lists a kind in pages of `pageSize` (500, as client-go's pager), so a thousand sites never make
   * one response of a hundred megabytes. If a continue token expires between pages (410: etcd
   * compacted the revision the first page was read at), the list starts over in one piece, as
   * client-go's pager does with FullListIfExpired: a consistent list matters more than its size.
   */
  async list<T extends KubernetesObject>(
    kind: string,
    namespace: string | undefined,
    options: {
      labelSelector?: string;
      pageSize?: number;
      signal?: AbortSignal;
      /** What to keep of each item, applied page by page (an informer keeps a part of each object). */
      project?: (item: KubernetesObject) => KubernetesObject;
      /** Only each item's metadata (PartialObjectMetadata): no spec, data or status. */
      metadataOnly?: boolean;
    } = {},
  ): Promise<ListResult<T>> {
    const type = resourceOf(kind);
    const path = collectionPath(type, namespace);
    // Lists carry no kind on their items (or PartialObjectMetadata's); the rest of the operator relies on it.
    const apiVersion = apiVersionOf(type);
    const project = options.project ?? ((item: KubernetesObject) => item);
    const page: PageFetcher<T> = async (query) => {
      const answer = await this.#json<Omit<ListPage<T>, 'items'> & { items: T[] | null }>(
        HttpMethod.GET,
        'list',
        kind,
        path,
        {
          query: { ...query, ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}) },
          ...(options.signal ? { signal: options.signal } : {}),
          ...(options.metadataOnly ? { accept: 'metadata-list' as const } : {}),
        },
      );
      // An empty PartialObjectMetadataList says `"items": null`.
      const items = (answer.items ?? []).map((item) => project({ ...item, apiVersion, kind }) as T);
      return { ...answer, items };
    };
    return listAllPages(page, options.pageSize ?? DEFAULT_PAGE_SIZE);
  }

  /**
   * Server-side apply: the object as rendered, with one field manager, taking over conflicting
   * fields. `answer: 'metadata'` answers with its metadata only (a PartialObjectMetadata).
   */
  async apply<T extends KubernetesObject>(
    object: KubernetesObject,
    options: { dryRun?: boolean; force?: boolean; fieldManager?: string; answer?: Answer } = {},
  ): Promise<T> {
    const kind = object.kind ?? '';
    const query: Record<string, string> = {
      fieldManager: options.fieldManager ?? this.#fieldManager,
      force: String(options.force ?? true),
    };
    if (options.dryRun) query.dryRun = 'All';
    const type = await this.#typeOf(object);
    return this.#json<T>(
      HttpMethod.PATCH,
      'apply',
      kind,
      // A namespaced object without a namespace goes where kubectl would put it: "default".
      objectPath(
        type,
        type.namespaced ? (object.metadata?.namespace ?? 'default') : undefined,
        object.metadata?.name ?? '',
      ),
      {
        body: object,
        contentType: 'application/apply-patch+yaml',
        query,
        accept: options.answer ?? 'object',
      },
    );
  }

  /**
   * Where an object's kind lives: the operator's fixed table, or (for the other kinds tests and
   * tools apply: Namespaces, CRDs, RBAC…) the API server's discovery, asked once per group version.
   */
  async #typeOf(object: KubernetesObject): Promise<ResourceType> {
    const kind = object.kind ?? '';
    const apiVersion = object.apiVersion ?? '';
    const known = RESOURCES.get(kind);
    if (known && apiVersionOf(known) === apiVersion) return known;
    let resources = this.#discovery.get(apiVersion);
    if (!resources) {
      const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      resources = this.#json<{ resources: { name: string; kind: string; namespaced: boolean }[] }>(
        HttpMethod.GET,
        'discover',
        apiVersion,
        path,
      ).then((list) => list.resources.filter((r) => !r.name.includes('/')));
      resources.catch(() => this.#discovery.delete(apiVersion));
      this.#discovery.set(apiVersion, resources);
    }
    const found = (await resources).find((r) => r.kind === kind);
    if (!found)
      throw new KubeApiError(404, 'NotFound', `the API server serves no kind ${kind} in ${apiVersion}`);
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    return {
      kind,
      group: group ?? '',
      version: version ?? '',
      plural: found.name,
      namespaced: found.namespaced,
    };
  }

  /** Server-side apply of the status subresource; `answer` as for apply. */
  async applyStatus<T extends KubernetesObject>(
    object: KubernetesObject,
    options: { answer?: Answer } = {},
  ): Promise<T> {
    const kind = object.kind ?? '';
    return this.#json<T>(
      HttpMethod.PATCH,
      'apply-status',
      kind,
      `${objectPath(resourceOf(kind), object.metadata?.namespace, object.metadata?.name ?? '')}/status`,
      {
        body: object,
        contentType: 'application/apply-patch+yaml',
        query: { fieldManager: this.#fieldManager, force: 'true' },
        accept: options.answer ?? 'object',
      },
    );
  }

  async create<T extends KubernetesObject>(
    object: KubernetesObject,
    options: { signal?: AbortSignal } = {},
  ): Promise<T> {
    const kind = object.kind ?? '';
    return this.#json<T>(
      HttpMethod.POST,
      'create',
      kind,
      collectionPath(resourceOf(kind), object.metadata?.namespace),
      { body: object, ...options },
    );
  }

  async merge<T extends KubernetesObject>(
    kind: string,
    namespace: string,
    name: string,
    patch: unknown,
  ): Promise<T> {
    return this.#json<T>(HttpMethod.PATCH, 'patch', kind, objectPath(resourceOf(kind), namespace, name), {
      body: patch,
      contentType: 'application/merge-patch+json',
    });
  }

  /** PUT of a Lease with its resourceVersion: fails with 409 if someone else wrote it first. */
  async replaceLease<T extends KubernetesObject>(
    lease: KubernetesObject,
    options: { signal?: AbortSignal } = {},
  ): Promise<T> {
    return this.#json<T>(
      HttpMethod.PUT,
      'update',
      'Lease',
      objectPath(resourceOf('Lease'), lease.metadata?.namespace, lease.metadata?.name ?? ''),
      { body: lease, ...options },
    );
  }

  /** Deletes with a precondition on uid, so a same-named object created meanwhile survives. */
  async delete(kind: string, namespace: string | undefined, name: string, uid?: string): Promise<boolean> {
    try {
      await this.#json(HttpMethod.DELETE, 'delete', kind, objectPath(resourceOf(kind), namespace, name), {
        body: {
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          propagationPolicy: 'Background',
          ...(uid ? { preconditions: { uid } } : {}),
        },
      });
      return true;
    } catch (error) {
      if (error instanceof KubeApiError && (error.status === 404 || error.status === 409)) return false;
      throw error;
    }
  }

  /**
   * Opens a watch from a resourceVersion and yields its events until the server closes it, the
   * signal aborts, or no line arrives for `silenceMs` (a watch that went quiet is indistinguishable
   * from a dead connection, so it is restarted).
   */
  async *watch(
    kind: string,
    namespace: string | undefined,
    options: {
      resourceVersion: string;
      labelSelector?: string;
      signal: AbortSignal;
      silenceMs: number;
      timeoutSeconds: number;
      /** Called when the watch is ended for silence (rather than by the server). */
      onSilent?: () => void;
      /** Each event's object as its metadata only (PartialObjectMetadata). */
      metadataOnly?: boolean;
    },
  ): AsyncGenerator<WatchEvent> {
    const type: ResourceType = resourceOf(kind);
    const query: Record<string, string> = {
      watch: 'true',
      allowWatchBookmarks: 'true',
      resourceVersion: options.resourceVersion,
      timeoutSeconds: String(options.timeoutSeconds),
    };
    if (options.labelSelector) query.labelSelector = options.labelSelector;
    const local = new AbortController();
    const abort = () => local.abort();
    options.signal.addEventListener('abort', abort, { once: true });
    let silence: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(silence);
      silence = setTimeout(() => {
        options.onSilent?.();
        local.abort();
      }, options.silenceMs);
    };
    try {
      this.#count('watch', kind);
      arm();
      const response = await this.#request(HttpMethod.GET, collectionPath(type, namespace), {
        query,
        signal: local.signal,
        ...(options.metadataOnly ? { accept: 'metadata' as const } : {}),
      });
      if (!response.ok || !response.body) {
        const text = await response.text();
        throw new KubeApiError(
          response.status,
          response.statusText,
          `watch ${kind}: HTTP ${response.status}: ${text}`,
        );
      }
      // Aborting the request (stop, silence, or leaving the loop) errors the body stream; keep that
      // error here so it never surfaces as an unhandled 'error' event, and rethrow a real one below.
      const input = Readable.fromWeb(response.body);
      let streamError: Error | undefined;
      input.on('error', (error) => (streamError = error));
      const lines = createInterface({ input, crlfDelay: Infinity });
      lines.on('error', (error) => (streamError = error));
      for await (const line of lines) {
        arm();
        if (!line.trim()) continue;
        const event = JSON.parse(line) as WatchEvent;
        if (event.type !== 'ERROR' && event.type !== 'BOOKMARK') {
          // The watched kind, also where a metadata watch says PartialObjectMetadata.
          event.object.apiVersion = apiVersionOf(type);
          event.object.kind = kind;
        }
        yield event;
      }
      if (streamError !== undefined && !local.signal.aborted) throw streamError;
    } catch (error) {
      if (local.signal.aborted) return;
      throw error;
    } finally {
      clearTimeout(silence);
      options.signal.removeEventListener('abort', abort);
      local.abort();
    }
  }
}
