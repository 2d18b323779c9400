// The store program assembled: the engine on the data directory, one listener per configured port
// (LMTP, POP3, IMAP), TLS from the mounted Secret (STARTTLS and
// implicit), metrics, health, and the drain — all from the kit in images/lib.
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';
import type { Socket } from 'node:net';
import type { Registry } from 'prom-client';
import { checkStoreLogin } from '../lib/auth/proofs.ts';
import type { ListenerConfig } from '../lib/contract/common.ts';
import type { StoreConfig } from '../lib/contract/store.ts';
import { describeError } from '../lib/errors.ts';
import { ProgramShell } from '../lib/lifecycle.ts';
import type { Logger } from '../lib/log.ts';
import { readSecretFile } from '../lib/secret-file.ts';
import { ClientConnections } from '../lib/server/client-limits.ts';
import {
  startListener,
  type AcceptedConnection,
  type DrainableSession,
  type Listener,
} from '../lib/server/listener.ts';
import { LMTP_LIMITS, POP3_LIMITS } from './limits.ts';
import { LmtpSession } from './lmtp/lmtp-session.ts';
import { MailStore } from './mailbox/mail-store.ts';
import { storeMetrics, type StoreMetrics, type StoreProtocol } from './metrics.ts';
import { imapProtocol } from './imap/imap-protocol.ts';
import { Pop3Session } from './pop3/session.ts';
import { LineConnection } from './protocol/line-connection.ts';

export interface StartStoreOptions {
  config: StoreConfig;
  logger: Logger;
  registry: Registry;
  /** All interfaces in a pod, loopback in tests. */
  listenHost: string;
}

export interface RunningStore {
  /** The port each listener is bound to, by listener name. */
  readonly ports: Record<string, number>;
  readonly httpPort: number;
  readonly store: MailStore;
  stop(): Promise<void>;
}

/** What a protocol needs to run one connection; IMAP registers its own in `protocols`. */
export interface ProtocolContext {
  readonly config: StoreConfig;
  readonly store: MailStore;
  readonly logger: Logger;
  readonly metrics: StoreMetrics;
  /** The TLS context in use now (renewed certificates are picked up); undefined without TLS files. */
  readonly tls: (() => SecureContext) | undefined;
  /** The MMP's proof (authzid = user, authcid = proxy identity, password = shared secret). */
  readonly login: (c: {
    authzid: string;
    authcid: string;
    password: string;
  }) => { ok: true; user: string } | { ok: false; reason: string };
}

export type ProtocolHandler = (
  connection: AcceptedConnection,
  socket: Socket,
  context: ProtocolContext,
  listener: ListenerConfig,
) => DrainableSession;

const lineConnection = (
  socket: Socket,
  connection: AcceptedConnection,
  limits: { idleTimeoutMs: number; bufferedInputBytes: number },
) =>
  new LineConnection(
    socket,
    { maxBufferedBytes: limits.bufferedInputBytes, idleTimeoutMs: limits.idleTimeoutMs },
    { address: connection.remoteAddress, port: connection.remotePort },
  );

const popSessions = new Map<string, number>();

/** The protocols this program speaks, by listener protocol. */
export const protocols: Partial<
  Record<ListenerConfig['protocol'], { name: StoreProtocol; handle: ProtocolHandler }>
> = {
  lmtp: {
    name: 'lmtp',
    handle(connection, socket, context, listener) {
      const session = new LmtpSession(lineConnection(socket, connection, LMTP_LIMITS), {
        store: context.store,
        hostname: context.config.common.hostname,
        domains: new Set(context.config.domains.map((d) => d.toLowerCase())),
        maxMessageBytes: context.config.maxMessageBytes,
        tls: listener.tls === 'starttls' ? context.tls : undefined,
        logger: context.logger,
        onOutcome: (outcome) => context.metrics.deliveries.inc({ outcome }),
      });
      track(context, 'lmtp', session.run());
      return session;
    },
  },
  pop3: {
    name: 'pop3',
    handle(connection, socket, context, listener) {
      const session = new Pop3Session(lineConnection(socket, connection, POP3_LIMITS), {
        store: context.store,
        hostname: context.config.common.hostname,
        login: context.login,
        tls: listener.tls === 'starttls' ? context.tls : undefined,
        logger: context.logger,
        popSessions,
        onCommand: (command, ok) =>
          context.metrics.commands.inc({ protocol: 'pop3', command, result: ok ? 'ok' : 'err' }),
      });
      track(context, 'pop3', session.run());
      return session;
    },
  },
  // The IMAP server (imap/imap-protocol.ts) counts its own sessions and commands.
  imap: imapProtocol,
};
protocols.pop3s = protocols.pop3;
protocols.imaps = protocols.imap;

function track(context: ProtocolContext, protocol: StoreProtocol, run: Promise<void>): void {
  context.metrics.sessions.inc({ protocol });
  context.metrics.sessionsTotal.inc({ protocol });
  run
    .catch((error: unknown) => context.logger.warn({ protocol, err: describeError(error) }, 'session failed'))
    .finally(() => context.metrics.sessions.dec({ protocol }));
}

/** Refuses a connection over a listener's limits in the protocol's own words, before any session. */
function refusal(protocol: ListenerConfig['protocol']): string {
  if (protocol === 'lmtp') return '421 4.7.0 Too many connections, try again later\r\n';
  if (protocol === 'pop3' || protocol === 'pop3s') return '-ERR [SYS/TEMP] Too many connections\r\n';
  return '* BYE Too many connections\r\n';
}

export async function startStore(options: StartStoreOptions): Promise<RunningStore> {
  const { config, logger, registry } = options;
  const secret = readSecretFile(config.proxyAuth.passwordFile);
  const trust = { proxyUser: config.proxyAuth.username, secret };
  let accountsOnDisk = 0;
  // Read at scrape time only, once the store below is open (the health server starts after it).
  const metrics = storeMetrics(registry, {
    openAccounts: () => mailStore.openAccounts,
    retainedMessages: () => mailStore.retainedMailboxes.messages,
    accounts: () => accountsOnDisk,
  });
  const mailStore = await MailStore.open({
    dataDir: config.dataDir,
    quota: { storageBytes: config.quota?.storageBytes, messages: config.quota?.messages },
    maxMessageBytes: config.maxMessageBytes,
    onRebuild: (user, report) => {
      metrics.indexRebuilds.inc();
      logger.warn({ user, ...report }, 'account index rebuilt from the message files');
    },
    onStored: (how, bytes) => metrics.storedBytes.inc({ how }, bytes),
  });
  const countAccounts = () =>
    mailStore.countAccounts().then(
      (n) => (accountsOnDisk = n),
      () => undefined,
    );
  await countAccounts();
  const counter = setInterval(() => void countAccounts(), 60_000);
  counter.unref();

  const shell = await ProgramShell.start({
    program: 'store',
    common: config.common,
    listenHost: options.listenHost,
    registry,
    logger,
    readiness: [{ name: 'store', check: () => Promise.resolve() }],
  });
  let secureContext = shell.tls ? createSecureContext(shell.tls) : undefined;
  shell.onTlsReload((tls) => (secureContext = createSecureContext(tls)));
  const context: ProtocolContext = {
    config,
    store: mailStore,
    logger,
    metrics,
    tls: secureContext ? () => secureContext! : undefined,
    login: (credentials) => checkStoreLogin(credentials, trust),
  };

  const clients = new ClientConnections();
  const listeners: Listener[] = [];
  const ports: Record<string, number> = {};
  try {
    for (const listenerConfig of config.listeners) {
      const protocol = protocols[listenerConfig.protocol];
      if (!protocol) {
        logger.warn(
          { listener: listenerConfig.name, protocol: listenerConfig.protocol },
          'no server for this protocol here; not listening',
        );
        continue;
      }
      if (listenerConfig.tls !== 'none' && !context.tls)
        throw new Error(
          `listener ${listenerConfig.name} wants TLS (${listenerConfig.tls}) but common.tls names no certificate`,
        );
      const listener = await startListener({
        config: listenerConfig,
        host: options.listenHost,
        logger,
        clients,
        onConnection: (connection) => {
          const over =
            connection.connectionsFromClient > listenerConfig.maxConnectionsPerClient ||
            (listeners.find((l) => l.name === listenerConfig.name)?.open ?? 0) >
              listenerConfig.maxConnections;
          if (over) {
            connection.socket.end(refusal(listenerConfig.protocol));
            return { isIdle: () => true, goodbye: () => connection.socket.destroy() };
          }
          let socket: Socket = connection.socket;
          // Implicit TLS (995, 993): the handshake comes first, before any greeting.
          if (listenerConfig.tls === 'implicit') {
            socket = new TLSSocket(connection.socket, { isServer: true, secureContext: context.tls!() });
            socket.on('error', () => socket.destroy());
          }
          return protocol.handle(connection, socket, context, listenerConfig);
        },
      });
      listeners.push(listener);
      ports[listenerConfig.name] = listener.port;
    }
  } catch (error) {
    for (const listener of listeners) listener.stopAccepting();
    await shell.stop();
    await mailStore.close();
    throw error;
  }
  shell.onDrain((graceMs) => Promise.all(listeners.map((l) => l.drain(graceMs))).then(() => undefined));
  shell.onClose(() => {
    clearInterval(counter);
    return mailStore.close();
  });
  return { ports, httpPort: shell.httpPort, store: mailStore, stop: () => shell.stop() };
}
