// One login, from the credentials a client sent to a socket logged in at the user's store, or to
// the failure the client is told and how long to wait before telling it. The decisions are the pure
// functions of routing/; this file sequences them with the directory, the penalty box and the store.
import type { PenaltyBox } from '../lib/auth/penalty-box.ts';
import { isMtopoError, describeError } from '../lib/errors.ts';
import type { DirectoryEntry } from '../lib/directory/entry.ts';
import type { Logger } from '../lib/log.ts';
import { loginLimits } from './limits.ts';
import type { MmpMetrics } from './metrics.ts';
import { identityOf, type LoginCache } from './routing/login-cache.ts';
import { failureDelayMs, type LoginFailure } from './routing/login-replies.ts';
import { routeToStore, type StoreAddress, type StoreProtocol } from './routing/store-route.ts';
import { RelayLogin } from './smtp/relay-login.ts';
import { connectToStore, type StoreConnection, type StoreTls } from './store-connector.ts';
import type { WarmConnections } from './warm-connections.ts';
import { nextHandbackId } from './store-login/handback-nonces.ts';
import { ImapStoreLogin, Pop3StoreLogin, type StoreLoginRequest } from './store-login/store-login.ts';

/** What the flow needs of the kit's penalty box. */
export type PenaltyKeeper = Pick<PenaltyBox, 'check' | 'fail' | 'succeed'>;

/** What the flow needs of the directory client. */
export interface LoginDirectory {
  authenticate(login: string, password: string): Promise<DirectoryEntry | null>;
}

/** What a client session speaks: a store's protocol, or SMTP submission (relayed to the outbound MTA). */
export type SessionProtocol = StoreProtocol | 'smtp';

export interface LoginAttempt {
  protocol: SessionProtocol;
  login: string;
  password: string;
  client: { address: string; port: number };
  sessionId: string;
  /** IMAP: the tag of the client's LOGIN/AUTHENTICATE, for the store's answer. */
  clientTag?: string;
  /** SMTP: the name the client gave in EHLO. */
  helo?: string;
}

/** The outbound MTA that SMTP submission is handed to (docs/mmp.md, "The SMTP submission proxy"). */
export interface SubmissionRelay {
  host: string;
  port: number;
  /** STARTTLS to the MTA is required (the proxy proves itself only over TLS); the CA to check it by. */
  tls: StoreTls;
  /** Our name in our EHLOs. */
  hostname: string;
  /** The XCLIENT secret, read for each session (rotation). */
  secret: () => string;
  /** The MTA's EHLO after XCLIENT: what the next clients are offered. */
  learned: (ehlo: readonly string[]) => void;
}

/** Who logged in by POP or IMAP from which address, for POP-before-SMTP (address → account). */
export interface RecentLogins {
  get(address: string): string | undefined;
  set(address: string, account: string): void;
}

export type LoginResult =
  | { ok: true; identity: string; store: string; connection: Extract<StoreConnection, { ok: true }> }
  | { ok: false; failure: LoginFailure; delayMs: number };

export interface LoginFlowOptions {
  directory: LoginDirectory;
  cache: LoginCache;
  penaltiesByAddress: PenaltyKeeper;
  penaltiesByUser: PenaltyKeeper;
  stores: ReadonlyMap<string, StoreAddress>;
  storeTls?: StoreTls | undefined;
  proxyUser: string;
  /** Read for each login, so a rotated Secret is used without a restart. */
  proxySecret: () => string;
  metrics: MmpMetrics;
  logger: Logger;
  failureFloorMs?: number;
  /** The directory's answer, all URLs together. */
  directoryTimeoutMs?: number;
  relay?: SubmissionRelay | undefined;
  /** Store connections opened ahead of logins. */
  warm?: WarmConnections | undefined;
  /** Kept when POP-before-SMTP is on. */
  recentLogins?: RecentLogins | undefined;
}

const sleep = (ms: number) => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

/** The penalty key of a login name: the directory matches without case or outer spaces, so does this. */
const userKey = (login: string) => login.trim().toLowerCase();

export class LoginFlow {
  readonly #options: LoginFlowOptions;

  constructor(options: LoginFlowOptions) {
    this.#options = options;
  }

  attempt(attempt: LoginAttempt): Promise<LoginResult> {
    return this.#measured(attempt, (started) => this.#attempt(attempt, started));
  }

  /**
   * SMTP without AUTH (POP-before-SMTP): a POP or IMAP login from the same address within the
   * window stands for one. Nothing secret is checked, so there is no floor and no penalty.
   */
  attemptByAddress(attempt: Omit<LoginAttempt, 'login' | 'password'>): Promise<LoginResult> {
    return this.#measured({ ...attempt, login: '', password: '' }, async () => {
      const account = this.#options.recentLogins?.get(attempt.client.address);
      if (account === undefined) return { ok: false, failure: 'no-recent-login', delayMs: 0 };
      return this.#relay({ ...attempt, login: '', password: '' }, account, performance.now());
    });
  }

  async #measured(
    attempt: LoginAttempt,
    run: (started: number) => Promise<LoginResult>,
  ): Promise<LoginResult> {
    const started = performance.now();
    const result = await run(started);
    const outcome = result.ok ? 'ok' : result.failure;
    this.#options.metrics.logins.inc({ protocol: attempt.protocol, outcome });
    this.#options.metrics.loginSeconds.observe(
      { protocol: attempt.protocol, outcome },
      (performance.now() - started + (result.ok ? 0 : result.delayMs)) / 1000,
    );
    return result;
  }

  async #attempt(attempt: LoginAttempt, started: number): Promise<LoginResult> {
    const o = this.#options;
    const floor = o.failureFloorMs ?? loginLimits.failureFloorMs;
    const fail = (failure: LoginFailure, fields: Record<string, unknown> = {}): LoginResult => {
      const level = failure === 'bad-credentials' || failure === 'locked-out' ? 'info' : 'warn';
      o.logger[level](
        { session: attempt.sessionId, client: attempt.client.address, failure, ...fields },
        'login failed',
      );
      return { ok: false, failure, delayMs: failureDelayMs(performance.now() - started, floor, 0) };
    };
    const addressKey = attempt.client.address;
    const user = userKey(attempt.login);
    const byAddress = o.penaltiesByAddress.check(addressKey);
    const byUser = o.penaltiesByUser.check(user);
    if (byAddress.kind === 'locked' || byUser.kind === 'locked')
      return fail('locked-out', { lockedBy: byAddress.kind === 'locked' ? 'address' : 'user' });
    // A guesser waits before each attempt is even checked (the BadGuy penalty).
    await sleep(Math.max(byAddress.delayMs, byUser.delayMs));

    let entry = o.cache.check(attempt.login, attempt.password);
    o.metrics.loginCache.inc({ result: entry ? 'hit' : 'miss' });
    if (!entry) {
      try {
        entry =
          (await withTimeout(
            o.directory.authenticate(attempt.login, attempt.password),
            o.directoryTimeoutMs ?? loginLimits.directoryTimeoutMs,
          )) ?? undefined;
      } catch (error) {
        return fail('directory-down', {
          err: describeError(error),
          code: isMtopoError(error) ? error.code : undefined,
        });
      }
      if (!entry) {
        o.penaltiesByAddress.fail(addressKey);
        o.penaltiesByUser.fail(user);
        return fail('bad-credentials');
      }
      o.cache.remember(attempt.login, attempt.password, entry);
    }
    o.penaltiesByAddress.succeed(addressKey);
    o.penaltiesByUser.succeed(user);

    const identity = identityOf(entry);
    if (attempt.protocol === 'smtp') return this.#relay(attempt, identity, started);
    const route = routeToStore(entry, o.stores, attempt.protocol);
    if (!route.ok)
      return fail('no-store', { user: identity, reason: route.reason, mailHost: route.mailHost });
    const request: StoreLoginRequest = {
      user: identity,
      proxyUser: o.proxyUser,
      secret: o.proxySecret(),
      client: attempt.client,
      sessionId: attempt.sessionId,
      // A connection handed back after LOGOUT needs the pool to wait in (IMAP, our store).
      ...(attempt.protocol === 'imap' && o.warm ? { handbackId: nextHandbackId() } : {}),
    };
    const connection = await connectToStore(
      { host: route.host, port: route.port, tls: o.storeTls },
      () =>
        attempt.protocol === 'imap'
          ? new ImapStoreLogin(request, attempt.clientTag ?? '*', loginLimits.maxStoreLineBytes)
          : new Pop3StoreLogin(request, loginLimits.maxStoreLineBytes),
      undefined,
      o.warm,
    );
    if (!connection.ok) {
      if (connection.failedAddresses > 0)
        o.metrics.storeConnectFailures.inc({ protocol: attempt.protocol }, connection.failedAddresses);
      if (connection.failure === 'store-refused')
        o.logger.error(
          { session: attempt.sessionId, user: identity, store: route.store, answer: connection.detail },
          'the store refused the MMP: check the shared secret and that the mailbox exists there',
        );
      return fail(connection.failure, { user: identity, store: route.store, detail: connection.detail });
    }
    o.logger.info(
      {
        session: attempt.sessionId,
        client: attempt.client.address,
        user: identity,
        store: route.store,
        address: connection.address,
        protocol: attempt.protocol,
      },
      'logged in',
    );
    o.recentLogins?.set(attempt.client.address, identity);
    return { ok: true, identity, store: route.store, connection };
  }

  /** The outbound MTA, logged in for `account` by the XCLIENT proof (smtp/relay-login.ts). */
  async #relay(attempt: LoginAttempt, account: string, started: number): Promise<LoginResult> {
    const o = this.#options;
    const fields = { session: attempt.sessionId, client: attempt.client.address, user: account };
    const fail = (failure: LoginFailure, detail: string): LoginResult => {
      o.logger.warn({ ...fields, failure, detail }, 'login failed');
      const floor = o.failureFloorMs ?? loginLimits.failureFloorMs;
      return { ok: false, failure, delayMs: failureDelayMs(performance.now() - started, floor, 0) };
    };
    const relay = o.relay;
    if (!relay) return fail('store-down', 'no outbound MTA is configured (smtpProxy)');
    const connection = await connectToStore(
      { host: relay.host, port: relay.port, starttls: relay.tls },
      () =>
        new RelayLogin({
          hostname: relay.hostname,
          user: account,
          secret: relay.secret(),
          client: attempt.client,
          helo: attempt.helo ?? '',
        }),
    );
    if (!connection.ok) {
      if (connection.failure === 'store-refused')
        o.logger.error(
          { ...fields, answer: connection.detail },
          'the outbound MTA refused the MMP: check the XCLIENT secret, its xclient.peerCidrs and that it knows the user',
        );
      return fail(connection.failure, connection.detail);
    }
    if (connection.ehlo) relay.learned(connection.ehlo);
    o.logger.info(
      { ...fields, relay: relay.host, address: connection.address, protocol: 'smtp' },
      'logged in',
    );
    return { ok: true, identity: account, store: relay.host, connection };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the directory did not answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
