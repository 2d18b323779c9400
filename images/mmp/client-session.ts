// One client connection, IMAP, POP3 or SMTP submission: the socket at the edge of a pure pre-login core. It performs
// the core's actions (send, start TLS, check a login, splice, close), runs the pre-login timer,
// and once the login flow hands it a socket logged in at the store, splices the two.
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import { describeError } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import { ImapPreLoginSession, type ImapSessionOptions } from './imap/imap-session.ts';
import { loginLimits, spliceLimits } from './limits.ts';
import type { LoginFlow, SessionProtocol } from './login-flow.ts';
import type { MmpMetrics } from './metrics.ts';
import { Pop3PreLoginSession, type Pop3SessionOptions } from './pop3/pop3-session.ts';
import type { PreLoginAction, PreLoginSession } from './pre-login-core.ts';
import { loginReply } from './routing/login-replies.ts';
import { SmtpPreAuthSession, type SmtpSessionOptions } from './smtp/smtp-session.ts';
import type { EndableSession, ProxiedSessions } from './proxied-sessions.ts';
import { splice, type Splice, type SpliceOptions, type SpliceOwner, type SpliceStats } from './splice.ts';
import type { WarmConnections } from './warm-connections.ts';

export type CoreSettings = Omit<ImapSessionOptions, 'secure'> &
  Omit<Pop3SessionOptions, 'secure'> &
  Partial<Omit<SmtpSessionOptions, 'secure' | keyof Pop3SessionOptions>>;

function preLoginCore(protocol: SessionProtocol, settings: CoreSettings, secure: boolean): PreLoginSession {
  if (protocol === 'imap') return new ImapPreLoginSession({ ...settings, secure });
  if (protocol === 'pop3') return new Pop3PreLoginSession({ ...settings, secure });
  return new SmtpPreAuthSession({
    ...settings,
    secure,
    hostname: settings.hostname ?? 'localhost',
    relayExtensions: settings.relayExtensions ?? (() => []),
    popBeforeSmtp: settings.popBeforeSmtp ?? false,
  });
}

const TOO_MANY_CONNECTIONS: Record<SessionProtocol, string> = {
  imap: '* BYE [LIMIT] Too many connections from your address\r\n',
  pop3: '-ERR [IN-USE] Too many connections from your address\r\n',
  smtp: '421 4.7.0 Too many connections from your address\r\n',
};

export interface ClientSessionOptions {
  protocol: SessionProtocol;
  listener: string;
  socket: Socket;
  remoteAddress: string;
  remotePort: number;
  connectionsFromClient: number;
  maxConnectionsPerClient: number;
  /** The listener starts with a TLS handshake (993, 995). */
  implicitTls: boolean;
  /** The current certificate (it may be renewed while we run). */
  secureContext: () => SecureContext | undefined;
  core: CoreSettings;
  loginFlow: LoginFlow;
  proxied: ProxiedSessions;
  /** Where a store connection handed back after LOGOUT goes (splice.ts), for the next login. */
  warm?: WarmConnections | undefined;
  idleTimeoutMs: number;
  preLoginTimeoutMs?: number;
  metrics: MmpMetrics;
  logger: Logger;
}

export interface ClientSession {
  isIdle(): boolean;
  goodbye(): void;
}

/**
 * Session ids, for logs and the store's x-session-id: unique across replicas by a random prefix per
 * process, then a counter (a getrandom call per connection showed in the login profile).
 */
const SESSION_PREFIX = randomBytes(6).toString('base64url');
let sessions = 0;
const nextSessionId = () => `${SESSION_PREFIX}${(++sessions).toString(36)}`;

export function startClientSession(o: ClientSessionOptions): ClientSession {
  const sessionId = nextSessionId();
  // Made on first use: most sessions log nothing below info, and a pino child per connection showed
  // in the login profile.
  let child: Logger | undefined;
  const log = () =>
    (child ??= o.logger.child({ session: sessionId, client: o.remoteAddress, listener: o.listener }));
  let socket: Socket = o.socket;
  let core: PreLoginSession | undefined;
  let phase: 'handshake' | 'pre-login' | 'logging-in' | 'proxied' | 'closed' = 'handshake';
  const handle = new SessionHandle();
  // Counted as pre-login until it closes or is spliced (then ProxiedSession counts it).
  o.metrics.sessions.inc({ protocol: o.protocol, phase: 'pre-login' });
  let preLogin = true;
  const leavePreLogin = () => {
    if (!preLogin) return;
    preLogin = false;
    o.metrics.sessions.dec({ protocol: o.protocol, phase: 'pre-login' });
  };

  let preLoginTimer: NodeJS.Timeout | undefined = setTimeout(
    () => perform(core?.timeout() ?? []),
    o.preLoginTimeoutMs ?? loginLimits.preLoginTimeoutMs,
  );
  // Runs when the client's socket has closed, however the session ended: our goodbye ('close'
  // sets the phase first), the client hanging up, or the splice. The gauge and the timer go then.
  let released = false;
  const closeAll = () => {
    phase = 'closed';
    if (released) return;
    released = true;
    clearTimeout(preLoginTimer);
    preLoginTimer = undefined;
    leavePreLogin();
  };
  // Line protocols answer a line at a time: Nagle would hold each answer for the peer's ACK.
  o.socket.setNoDelay(true);
  // 'close' comes once: a plain listener (a once() wrapper would stay with the session). Errors
  // need none of ours: the kit's listener ignores them (each is followed by 'close').
  o.socket.on('close', closeAll);

  // A function, so that TypeScript does not carry its narrowing of `phase` across an await.
  const closed = () => phase === 'closed';
  const onData = (chunk: Buffer) => perform(core?.receive(chunk) ?? []);

  // Taken off at the splice, which has its own.
  const onTlsError = function (this: TLSSocket, error: Error) {
    log().info({ err: describeError(error) }, 'TLS handshake or connection failed');
    this.destroy();
  };
  const upgrade = (then: () => void) => {
    const context = o.secureContext();
    if (!context) {
      log().error('no TLS certificate loaded; closing');
      o.socket.destroy();
      return;
    }
    socket.off('data', onData);
    const secure = new TLSSocket(socket, { isServer: true, secureContext: context });
    secure.on('error', onTlsError);
    secure.once('secure', () => {
      socket = secure;
      then();
    });
  };

  const perform = (actions: PreLoginAction[]) => {
    for (const action of actions) {
      if (phase === 'closed') return;
      switch (action.kind) {
        case 'send':
          socket.write(action.data);
          break;
        case 'close':
          phase = 'closed';
          socket.end();
          // A client that does not close its end after our goodbye is cut.
          setTimeout(() => o.socket.destroy(), 2000).unref();
          break;
        case 'start-tls':
          upgrade(() => {
            socket.on('data', onData);
            perform(core?.tlsStarted() ?? []);
          });
          break;
        case 'login':
          void login(action);
          break;
        case 'login-by-address':
          void login(action);
          break;
        case 'splice':
          startSplice(action.pipelined);
          break;
      }
    }
  };

  let storeConnection:
    | {
        socket: Socket;
        toClient: string;
        rest: Buffer;
        identity: string;
        store: string;
        handbackId: number;
      }
    | undefined;

  const login = async (action: Extract<PreLoginAction, { kind: 'login' | 'login-by-address' }>) => {
    phase = 'logging-in';
    const tag = action.kind === 'login' ? action.tag : undefined;
    const attempt = {
      protocol: o.protocol,
      client: { address: o.remoteAddress, port: o.remotePort },
      sessionId,
      ...(tag !== undefined ? { clientTag: tag } : {}),
      ...(action.helo !== undefined ? { helo: action.helo } : {}),
    };
    let result;
    try {
      result =
        action.kind === 'login'
          ? await o.loginFlow.attempt({ ...attempt, login: action.login, password: action.password })
          : await o.loginFlow.attemptByAddress(attempt);
    } catch (error) {
      log().error({ err: describeError(error) }, 'login failed unexpectedly');
      result = { ok: false as const, failure: 'store-down' as const, delayMs: 0 };
    }
    if (!result.ok) {
      await new Promise((r) => setTimeout(r, result.delayMs));
      if (closed()) return;
      phase = 'pre-login';
      perform(core?.loginFailed(loginReply(result.failure), tag) ?? []);
      return;
    }
    const { connection } = result;
    if (closed()) {
      connection.socket.destroy();
      return;
    }
    storeConnection = { ...connection, identity: result.identity, store: result.store };
    if (connection.toClient) socket.write(connection.toClient);
    perform(core?.loginSucceeded() ?? []);
  };

  const startSplice = (pipelined: Buffer) => {
    if (!storeConnection) return;
    const { socket: storeSocket, rest, identity, store: storeName, handbackId } = storeConnection;
    phase = 'proxied';
    // From here on the session is the proxied one alone: nothing made above (this function's
    // closures and what they hold: the options, the pre-login core and its buffers, the store's
    // login leftovers) may stay referenced, or an idle session (hours, for an IDLE client) would
    // keep them all. So the timer is cleared and let go, this session's listeners come off both
    // sockets, and the handle the listener drains by points at the proxied session instead.
    clearTimeout(preLoginTimer);
    preLoginTimer = undefined;
    socket.off('data', onData);
    socket.off('error', onTlsError);
    o.socket.off('close', closeAll);
    core = undefined;
    storeConnection = undefined;
    leavePreLogin();
    const proxiedSession = new ProxiedSession({
      protocol: o.protocol,
      listener: o.listener,
      remoteAddress: o.remoteAddress,
      metrics: o.metrics,
      logger: o.logger,
      proxied: o.proxied,
      sessionId,
      identity,
      store: storeName,
      log: child,
      warm: o.warm,
    });
    proxiedSession.start(socket, storeSocket, {
      idleTimeoutMs: o.idleTimeoutMs,
      pipelined,
      storeRest: rest,
      maxBufferedBytes: spliceLimits.maxBufferedBytes,
      handbackId,
    });
    handle.current = proxiedSession;
  };

  const begin = () => {
    if (phase === 'closed') return;
    phase = 'pre-login';
    core = preLoginCore(o.protocol, o.core, o.implicitTls);
    if (o.connectionsFromClient > o.maxConnectionsPerClient) {
      o.metrics.refusedConnections.inc({ listener: o.listener, reason: 'per-client-limit' });
      socket.write(TOO_MANY_CONNECTIONS[o.protocol]);
      perform([{ kind: 'close' }]);
      return;
    }
    socket.on('data', onData);
    // The listener pauses a socket while it reads a PROXY header; from here on we read.
    socket.resume();
    perform(core.greeting());
  };

  handle.current = {
    isIdle: () => phase === 'handshake' || (phase === 'pre-login' && (core?.isIdle() ?? true)),
    goodbye: () => {
      if (phase === 'pre-login' || phase === 'logging-in') perform(core?.goodbye() ?? []);
      else o.socket.destroy();
    },
  };
  if (o.implicitTls) upgrade(begin);
  else begin();
  return handle;
}

const NO_SESSION: ClientSession = { isIdle: () => true, goodbye: () => undefined };

/** What the listener drains a session by: its pre-login self until the splice, then the proxied one. */
class SessionHandle implements ClientSession {
  current: ClientSession = NO_SESSION;
  isIdle(): boolean {
    return this.current.isIdle();
  }
  goodbye(): void {
    this.current.goodbye();
  }
}

interface ProxiedSessionFields {
  protocol: SessionProtocol;
  listener: string;
  remoteAddress: string;
  metrics: MmpMetrics;
  logger: Logger;
  proxied: ProxiedSessions;
  sessionId: string;
  identity: string;
  store: string;
  /** The session's child logger, if it made one before the splice. */
  log: Logger | undefined;
  warm: WarmConnections | undefined;
}

/**
 * A session spliced to its store: the splice, and what its end needs (the gauge, the bytes, the
 * session's log line, the end-sessions registry). One object, no closures (splice.ts says why).
 */
class ProxiedSession implements ClientSession, EndableSession, SpliceOwner {
  readonly #f: ProxiedSessionFields;
  #splice: Splice | undefined;

  constructor(fields: ProxiedSessionFields) {
    this.#f = fields;
  }

  start(client: Socket, store: Socket, options: SpliceOptions): void {
    this.#f.metrics.sessions.inc({ protocol: this.#f.protocol, phase: 'proxied' });
    this.#f.proxied.add(this.#f.identity, this);
    this.#splice = splice(client, store, options, this);
  }

  isIdle(): boolean {
    return false;
  }

  goodbye(): void {
    this.end();
  }

  end(): void {
    this.#splice?.end();
  }

  spliceHandedBack(store: Socket): void {
    this.#f.metrics.storeHandbacks.inc({ protocol: this.#f.protocol });
    if (this.#f.warm) this.#f.warm.give(store);
    else store.destroy();
  }

  spliceEnded(stats: SpliceStats): void {
    const f = this.#f;
    f.proxied.remove(f.identity, this);
    f.metrics.sessions.dec({ protocol: f.protocol, phase: 'proxied' });
    f.metrics.splicedBytes.inc({ protocol: f.protocol, direction: 'to-store' }, stats.toStore);
    f.metrics.splicedBytes.inc({ protocol: f.protocol, direction: 'to-client' }, stats.toClient);
    if (!f.logger.isLevelEnabled('info')) return;
    const log =
      f.log ?? f.logger.child({ session: f.sessionId, client: f.remoteAddress, listener: f.listener });
    log.info({ user: f.identity, store: f.store, ...stats }, 'session ended');
  }
}
