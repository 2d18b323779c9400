// The directory client every program uses (ldapts). Three jobs: find the entry that receives mail
// for an address, find and check a user who logs in, and say whether the directory is reachable.
//
// - Every value from a client goes into a filter object (filters.ts), never pasted into text.
// - An empty password is refused before any bind: on slapd an empty password is an anonymous bind,
//   and an anonymous bind succeeds.
// - The identity is the entry's, not what the client typed (`ALICE` and ` alice` find `alice`).
// - Answers are cached for a short time; errors never are.
// - A directory that cannot answer is an EDIRECTORY error, which the callers turn into a temporary
//   failure (451/454), never into "no such user".
import { Client, InvalidCredentialsError, type Filter } from 'ldapts';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { DirectoryConfig } from '../contract/common.ts';
import { describeError, MtopoError } from '../errors.ts';
import { readSecretFile } from '../secret-file.ts';
import { TtlCache } from '../ttl-cache.ts';
import { requestedAttributes, toDirectoryEntry, type DirectoryEntry } from './entry.ts';
import { loginFilter, recipientFilter } from './filters.ts';
import { readFileSync } from 'node:fs';

export type { DirectoryEntry } from './entry.ts';

export interface DirectoryMetrics {
  requestSeconds: Histogram<'operation' | 'outcome'>;
  cacheLookups: Counter<'result'>;
}

export function directoryMetrics(registry: Registry): DirectoryMetrics {
  return {
    requestSeconds: new Histogram({
      name: 'mtopo_directory_request_duration_seconds',
      help: 'Time the directory took to answer, by operation and outcome.',
      labelNames: ['operation', 'outcome'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    cacheLookups: new Counter({
      name: 'mtopo_directory_cache_lookups_total',
      help: 'Recipient lookups answered from the cache (hit) or sent to the directory (miss).',
      labelNames: ['result'],
      registers: [registry],
    }),
  };
}

export interface DirectoryClientOptions {
  config: DirectoryConfig;
  metrics?: DirectoryMetrics;
  /** For tests: a clock for the cache. */
  now?: () => number;
}

export class DirectoryClient {
  readonly #config: DirectoryConfig;
  readonly #metrics: DirectoryMetrics | undefined;
  readonly #cache: TtlCache<string, DirectoryEntry | null>;
  readonly #tlsOptions: { ca?: Buffer } | undefined;
  /** The bound service connection, shared by concurrent searches; replaced when it breaks. */
  #service: Promise<Client> | undefined;
  /** Which URL to try first; moves on when one fails. */
  #urlIndex = 0;
  #closed = false;

  constructor(options: DirectoryClientOptions) {
    this.#config = options.config;
    this.#metrics = options.metrics;
    this.#cache = new TtlCache({ ttlMs: options.config.cacheTTLSeconds * 1000, now: options.now });
    this.#tlsOptions = options.config.caFile ? { ca: readFileSync(options.config.caFile) } : undefined;
  }

  /**
   * The entry that receives mail for `address` (as primary address or alias), null when there is
   * none. Throws EDIRECTORY when the directory cannot answer and EAMBIGUOUS when two entries claim
   * the address.
   */
  async findRecipient(address: string): Promise<DirectoryEntry | null> {
    // LDAP matches mail attributes without regard to case (caseIgnoreIA5Match), so the cache does too.
    const key = address.toLowerCase();
    const cached = this.#cache.get(key);
    if (cached !== undefined) {
      this.#metrics?.cacheLookups.inc({ result: 'hit' });
      return cached;
    }
    this.#metrics?.cacheLookups.inc({ result: 'miss' });
    const entries = await this.#search('recipient', recipientFilter(this.#config.attributes, address));
    if (entries.length > 1) {
      throw new MtopoError('EAMBIGUOUS', `${entries.length} directory entries receive mail for ${address}`);
    }
    const entry = entries[0] ?? null;
    this.#cache.set(key, entry);
    return entry;
  }

  /** The entry a user logs in as (by uid or primary address), null when there is not exactly one. */
  async findLogin(login: string): Promise<DirectoryEntry | null> {
    if (login.length === 0) return null;
    const entries = await this.#search('login', loginFilter(this.#config.attributes, login));
    return entries.length === 1 ? (entries[0] ?? null) : null;
  }

  /**
   * Checks a user's password with a bind as that user's entry, on a connection of its own so the
   * shared service connection keeps its identity. Returns the entry on success, null when the user
   * or the password is wrong. Throws EDIRECTORY when no directory server can answer.
   *
   * An unknown user costs a bind too (to a DN that cannot exist, refused like a wrong password),
   * so that the time of the answer does not tell a guesser which users exist.
   */
  async authenticate(login: string, password: string): Promise<DirectoryEntry | null> {
    if (password.length === 0) return null;
    const entry = await this.findLogin(login);
    const refused = await this.#bindAsUser(entry?.dn ?? this.#unknownUserDN(), password);
    return entry && !refused ? entry : null;
  }
  /** Resolves when the directory answers a base search on the base DN. */
  async ping(): Promise<void> {
    const client = await this.#serviceClient();
    await client.search(this.#config.baseDN, { scope: 'base', attributes: ['1.1'], sizeLimit: 1 });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const service = this.#service;
    this.#service = undefined;
    if (service) await service.then((c) => c.unbind()).catch(() => undefined);
  }

  async #search(operation: string, filter: Filter): Promise<DirectoryEntry[]> {
    // One retry on a fresh connection: an idle connection closed by the server or a load balancer
    // is common and says nothing about the directory's health.
    for (let attempt = 1; ; attempt++) {
      const started = performance.now();
      try {
        const client = await this.#serviceClient();
        const { searchEntries } = await client.search(this.#config.baseDN, {
          scope: 'sub',
          filter,
          attributes: requestedAttributes(this.#config.attributes),
          // Two are enough to tell "one" from "ambiguous".
          sizeLimit: 2,
          timeLimit: Math.ceil(this.#config.timeoutMs / 1000),
        });
        this.#observe(operation, 'ok', started);
        return searchEntries.map((e) => toDirectoryEntry(e, this.#config.attributes));
      } catch (error) {
        this.#observe(operation, 'error', started);
        this.#dropService();
        if (attempt >= 2 || this.#closed) {
          throw new MtopoError('EDIRECTORY', `directory search failed: ${describeError(error)}`, {
            cause: error,
          });
        }
      }
    }
  }

  async #serviceClient(): Promise<Client> {
    for (;;) {
      if (this.#closed) throw new MtopoError('ESHUTDOWN', 'directory client is closed');
      this.#service ??= this.#connectService();
      const service = this.#service;
      const client = await service;
      // ldapts reconnects by itself when the server went away, but unbound: an anonymous search
      // then sees what the directory shows anonymous clients (often nothing: "no such object", or
      // worse, "no such user"). A connection that is not bound any more is replaced by a bound one.
      if (client.isBound) return client;
      if (this.#service === service) this.#dropService();
    }
  }

  /**
   * Runs `attempt` on a fresh client for each directory URL in turn, from the one that answered
   * last, until one does not throw: a server that is down moves on to the next. `attempt` decides
   * what counts as an answer (a refused password is one). Every URL failing is EDIRECTORY.
   */
  async #onFirstAnsweringServer<T>(
    what: string,
    attempt: (client: Client, index: number) => Promise<T>,
  ): Promise<T> {
    const urls = this.#config.urls;
    let lastError: unknown;
    for (let i = 0; i < urls.length; i++) {
      const index = (this.#urlIndex + i) % urls.length;
      try {
        return await attempt(this.#newClient(urls[index]!), index);
      } catch (error) {
        lastError = error;
      }
    }
    throw new MtopoError('EDIRECTORY', `${what}: ${describeError(lastError)}`, { cause: lastError });
  }

  async #connectService(): Promise<Client> {
    // Read on every connect, so a rotated Secret is picked up without a restart.
    const bindDN = readSecretFile(this.#config.bindDNFile);
    const password = readSecretFile(this.#config.passwordFile);
    try {
      return await this.#onFirstAnsweringServer('no directory server answered', async (client, index) => {
        const started = performance.now();
        try {
          await client.bind(bindDN, password);
        } catch (error) {
          this.#observe('service-bind', 'error', started);
          await client.unbind().catch(() => undefined);
          throw error;
        }
        this.#observe('service-bind', 'ok', started);
        this.#urlIndex = index;
        return client;
      });
    } catch (error) {
      this.#service = undefined;
      throw error;
    }
  }

  /**
   * A bind as `dn`, tried on each directory URL in turn as the service connection is: a server that
   * is down moves on to the next; a refused password does not (every server holds the same entry).
   * Resolves true when the password was refused.
   */
  #bindAsUser(dn: string, password: string): Promise<boolean> {
    return this.#onFirstAnsweringServer('directory bind failed', async (client) => {
      const started = performance.now();
      try {
        await client.bind(dn, password);
        this.#observe('bind', 'ok', started);
        return false;
      } catch (error) {
        if (error instanceof InvalidCredentialsError) {
          this.#observe('bind', 'refused', started);
          return true;
        }
        this.#observe('bind', 'error', started);
        throw error;
      } finally {
        await client.unbind().catch(() => undefined);
      }
    });
  }

  /** A DN under the base that no entry has: slapd refuses a bind to it with invalidCredentials. */
  #unknownUserDN(): string {
    return `cn=mtopo-unknown-user,${this.#config.baseDN}`;
  }

  #dropService(): void {
    const service = this.#service;
    this.#service = undefined;
    if (service) void service.then((c) => c.unbind()).catch(() => undefined);
    // Next time, start with the next server.
    this.#urlIndex = (this.#urlIndex + 1) % this.#config.urls.length;
  }

  #newClient(url: string): Client {
    return new Client({
      url,
      timeout: this.#config.timeoutMs,
      connectTimeout: this.#config.timeoutMs,
      ...(this.#tlsOptions ? { tlsOptions: this.#tlsOptions } : {}),
    });
  }

  #observe(operation: string, outcome: string, started: number): void {
    this.#metrics?.requestSeconds.observe({ operation, outcome }, (performance.now() - started) / 1000);
  }
}
