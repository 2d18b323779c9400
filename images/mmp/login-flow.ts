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
import { connectToStore, type StoreConnection, type StoreTls } from './store-connector.ts';
import { ImapStoreLogin, Pop3StoreLogin, type StoreLoginRequest } from './store-login/store-login.ts';

/** What the flow needs of the kit's penalty box. */
export type PenaltyKeeper = Pick<PenaltyBox, 'check' | 'fail' | 'succeed'>;

/** What the flow needs of the directory client. */
export interface LoginDirectory {
  authenticate(login: string, password: string): Promise<DirectoryEntry | null>;
}

export interface LoginAttempt {
  protocol: StoreProtocol;
  login: string;
  password: string;
  client: { address: string; port: number };
  sessionId: string;
  /** IMAP: the tag of the client's LOGIN/AUTHENTICATE, for the store's answer. */
  clientTag?: string;
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
}

const sleep = (ms: number) => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

/** The penalty key of a login name: the directory matches without case or outer spaces, so does this. */
const userKey = (login: string) => login.trim().toLowerCase();

export class LoginFlow {
  readonly #options: LoginFlowOptions;

  constructor(options: LoginFlowOptions) {
    this.#options = options;
  }

  async attempt(attempt: LoginAttempt): Promise<LoginResult> {
    const started = performance.now();
    const result = await this.#attempt(attempt, started);
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
    const route = routeToStore(entry, o.stores, attempt.protocol);
    if (!route.ok)
      return fail('no-store', { user: identity, reason: route.reason, mailHost: route.mailHost });
    const request: StoreLoginRequest = {
      user: identity,
      proxyUser: o.proxyUser,
      secret: o.proxySecret(),
      client: attempt.client,
      sessionId: attempt.sessionId,
    };
    const connection = await connectToStore({ host: route.host, port: route.port, tls: o.storeTls }, () =>
      attempt.protocol === 'imap'
        ? new ImapStoreLogin(request, attempt.clientTag ?? '*', loginLimits.maxStoreLineBytes)
        : new Pop3StoreLogin(request, loginLimits.maxStoreLineBytes),
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
    return { ok: true, identity, store: route.store, connection };
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
