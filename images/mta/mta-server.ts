// The MTA program assembled from its parts: config → directory client, spool, router, delivery
// scheduler, one smtp-server per listener, health and metrics. `startMta` returns once everything
// listens; `stop` is the SIGTERM path: stop accepting, let sessions finish their transaction and
// deliveries their attempt, keep the queue on disk.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { AddressSet, PRIVATE_RANGES } from '../lib/contract/cidr.ts';
import type { MtaConfig } from '../lib/contract/mta.ts';
import { DirectoryClient, directoryMetrics } from '../lib/directory/directory-client.ts';
import { describeError, isMtopoError, MtopoError } from '../lib/errors.ts';
import { ProgramShell } from '../lib/lifecycle.ts';
import { readSecretFile } from '../lib/secret-file.ts';
import { ClientConnections, ClientRateLimiter } from '../lib/server/client-limits.ts';
import { startListener, type Listener } from '../lib/server/listener.ts';
import { PenaltyBox } from '../lib/auth/penalty-box.ts';
import { freshState } from './core/envelope.ts';
import { channelOf } from './core/policy.ts';
import { REPLIES, replyText } from './core/replies.ts';
import { buildRoutingTable, RecipientRouter, type DirectoryLookup } from './core/routing.ts';
import { createConnector } from './delivery/connector.ts';
import { MxResolver, type MxAnswer } from './delivery/mx-resolver.ts';
import { RecipientVerifier } from './delivery/recipient-probe.ts';
import { DeliveryScheduler } from './delivery/scheduler.ts';
import {
  authFailurePolicy,
  DATA_RATE_GRACE_MS,
  FREE_SPACE_CACHE_MS,
  GREETING_DELAY_MS,
  MAX_ACTIVE_DELIVERIES,
  NEXT_HOP_IDLE_MS,
  minFreeSpoolBytes,
  RECIPIENT_PROBE_CACHE_MS,
  recipientErrorPolicy,
  SMTP_CLOSE_TIMEOUT_MS,
} from './limits.ts';
import { mtaMetrics, type QueueStats } from './metrics.ts';
import { MtaSmtpServer } from './receiving/mta-smtp-server.ts';
import { createSessionHandlers, type ReceivingDeps } from './receiving/session-handlers.ts';
import { freeSpaceOf } from './spool/free-space.ts';
import { Spool } from './spool/spool.ts';

export interface MtaOptions {
  config: MtaConfig;
  logger: Logger;
  registry: Registry;
  /** Address to listen on: all interfaces in a pod, loopback in tests. */
  listenHost: string;
  /** DNS servers for MX, A and AAAA lookups ("127.0.0.1:5353"); absent: the pod's resolv.conf. */
  dnsServers?: string[];
  /** Tests: MX answers without a DNS server. */
  resolveMx?: (domain: string) => Promise<MxAnswer>;
  /** The port MX hosts listen on: 25, except in tests on loopback. */
  mxPort?: number;
}

export interface RunningMta {
  ports: Record<string, number>;
  httpPort: number;
  scheduler: DeliveryScheduler;
  stop(): Promise<void>;
}

/** A directory lookup for routing: never throws; a directory that cannot answer is "unavailable". */
export function directoryLookup(directory: DirectoryClient | undefined): DirectoryLookup {
  return async (address) => {
    if (!directory) return { kind: 'unavailable', reason: 'this tier has no directory' };
    try {
      const entry = await directory.findRecipient(address);
      return entry ? { kind: 'found', entry } : { kind: 'none' };
    } catch (error) {
      if (isMtopoError(error, 'EAMBIGUOUS')) return { kind: 'ambiguous' };
      return { kind: 'unavailable', reason: describeError(error) };
    }
  };
}

/** The edge asks the inbound tier about each recipient (call-ahead); other tiers ask nobody. */
export function recipientVerifierFor(config: MtaConfig): RecipientVerifier | undefined {
  if (config.role !== 'internet') return undefined;
  return new RecipientVerifier({
    host: config.relayTo.host,
    port: config.relayTo.port,
    name: config.common.hostname,
    tls: config.relayTo.tls,
    cacheTtlMs: RECIPIENT_PROBE_CACHE_MS,
  });
}

function networks(field: string, cidrs: readonly string[] | undefined): AddressSet {
  try {
    return new AddressSet(cidrs ?? PRIVATE_RANGES);
  } catch (error) {
    throw new MtopoError('ECONFIG', `${field}: ${describeError(error)}`);
  }
}

export async function startMta(options: MtaOptions): Promise<RunningMta> {
  const { config, logger, registry } = options;
  const role = config.role;
  const acceptFrom = networks(
    'acceptFrom',
    config.role === 'inbound' || config.role === 'gateway' ? config.acceptFrom : undefined,
  );
  const xclient =
    config.role === 'outbound' && config.xclient
      ? {
          secret: readSecretFile(config.xclient.secretFile),
          peers: networks('xclient.peerCidrs', config.xclient.peerCidrs),
        }
      : undefined;
  for (const l of config.listeners) {
    if (l.tls === 'implicit' && !config.common.tls)
      throw new MtopoError('ECONFIG', `listeners.${l.name}: implicit TLS needs common.tls`);
  }

  const directory =
    config.role === 'inbound' || config.role === 'outbound'
      ? new DirectoryClient({ config: config.directory, metrics: directoryMetrics(registry) })
      : undefined;
  const spool = await Spool.open(config.queue.dir);
  // The metrics read the queue's size from the scheduler, which needs the metrics: bound late.
  let stats: () => QueueStats = () => ({ depth: 0, oldestArrival: undefined });
  const metrics = mtaMetrics(registry, role, () => stats());
  const router = new RecipientRouter(buildRoutingTable(config), directoryLookup(directory));
  const queueScheduler = new DeliveryScheduler({
    role,
    hostname: config.common.hostname,
    spool,
    router,
    retry: {
      initialMs: config.queue.retryInitialSeconds * 1000,
      maxMs: config.queue.retryMaxSeconds * 1000,
      lifetimeMs: config.queue.lifetimeSeconds * 1000,
    },
    concurrency: config.limits.deliveryConcurrency,
    connect: createConnector({
      name: config.common.hostname,
      resolver: new MxResolver(options.dnsServers),
      ...(options.resolveMx ? { resolveMx: options.resolveMx } : {}),
      ...(options.mxPort ? { mxPort: options.mxPort } : {}),
    }),
    idleMs: NEXT_HOP_IDLE_MS,
    maxActive: MAX_ACTIVE_DELIVERIES,
    logger,
    metrics,
  });
  stats = () => queueScheduler.stats();

  const shell = await ProgramShell.start({
    program: 'mta',
    common: config.common,
    listenHost: options.listenHost,
    registry,
    logger,
    readiness: [
      { name: 'spool', check: () => spool.probe() },
      ...(directory ? [{ name: 'directory', check: () => directory.ping() }] : []),
    ],
  });

  // What was queued before a restart (or a crash) is delivered first.
  const recovered = await spool.recover((file, error) =>
    logger.error({ file, err: describeError(error) }, 'damaged spool file left in place'),
  );
  // A recovered message may have a state file (or a damaged one) to clean up once it is delivered.
  for (const message of recovered) queueScheduler.add(message, message.state ?? freshState(Date.now()));
  if (recovered.length > 0) logger.info({ messages: recovered.length }, 'queue recovered');

  const connections = new ClientConnections();
  const rateLimiter = new ClientRateLimiter(config.limits.messagesPerMinutePerClient);
  const connectionRate = new ClientRateLimiter(config.limits.connectionsPerMinutePerClient);
  const sweep = setInterval(() => {
    rateLimiter.sweep();
    connectionRate.sweep();
  }, 60_000);
  sweep.unref();

  const verifier = recipientVerifierFor(config);

  const authPenalties = new PenaltyBox(authFailurePolicy(config.limits));
  const recipientPenalties = new PenaltyBox(recipientErrorPolicy(config.limits));
  const penaltySweep = setInterval(() => {
    authPenalties.sweep();
    recipientPenalties.sweep();
  }, 60_000);
  penaltySweep.unref();
  const receiving: ReceivingDeps = {
    role,
    hostname: config.common.hostname,
    router,
    directory,
    xclient,
    spool,
    freeSpace: freeSpaceOf(config.queue.dir, minFreeSpoolBytes(config.limits), FREE_SPACE_CACHE_MS),
    connections,
    rateLimiter: role === 'internet' || role === 'outbound' ? rateLimiter : undefined,
    connectionRate: role === 'internet' || role === 'outbound' ? connectionRate : undefined,
    verifier,
    limits: config.limits,
    authPenalties,
    recipientPenalties,
    isDraining: () => shell.draining,
    onQueued: (message) => queueScheduler.add(message),
    metrics,
    logger,
    now: Date.now,
  };
  const relayFrom = networks('relayFrom', config.role === 'outbound' ? config.relayFrom : undefined);

  const servers: MtaSmtpServer[] = [];
  const listeners: Listener[] = [];
  for (const listenerConfig of config.listeners) {
    const channel = channelOf(role, listenerConfig.protocol);
    const handlers = createSessionHandlers(receiving, {
      name: listenerConfig.name,
      channel,
      acceptFrom: channel === 'relay' ? relayFrom : acceptFrom,
      maxConnectionsPerClient: listenerConfig.maxConnectionsPerClient,
    });
    const implicit = listenerConfig.tls === 'implicit';
    const submission = channel === 'submission';
    const tls = shell.tls;
    const smtp = new MtaSmtpServer({
      greetingDelayMs: GREETING_DELAY_MS[role],
      deadlines: {
        commandMs: config.limits.commandTimeoutSeconds * 1000,
        busyCommandMs: config.limits.busyCommandTimeoutSeconds * 1000,
        dataMs: config.limits.dataTimeoutSeconds * 1000,
        minBytesPerSecond: config.limits.minDataBytesPerSecond,
        rateGraceMs: DATA_RATE_GRACE_MS,
      },
      onDeadline: (deadline, connection) => {
        metrics.deadlines.inc({ role, deadline });
        logger.info(
          {
            session: connection.id,
            client: connection.remoteAddress,
            listener: listenerConfig.name,
            deadline,
            code: 'ETIMEOUT',
          },
          'too slow: closing session',
        );
      },
      // smtp-server's idle timeout (no byte at all): the same as the command deadline.
      socketTimeout: config.limits.commandTimeoutSeconds * 1000,
      name: config.common.hostname,
      banner: 'mtopo',
      ...(tls ? { key: tls.key, cert: tls.cert, minVersion: 'TLSv1.2' as const } : {}),
      secure: implicit,
      needsUpgrade: implicit,
      hideSTARTTLS: listenerConfig.tls !== 'starttls' || !tls,
      hideENHANCEDSTATUSCODES: false,
      hidePIPELINING: false,
      hide8BITMIME: false,
      hideSMTPUTF8: false,
      hideDSN: true,
      size: config.limits.maxMessageBytes,
      maxClients: listenerConfig.maxConnections,
      maxRecipients: config.limits.maxRecipients,
      // AUTH only for submission, and only over TLS (RFC 8314 section 3, RFC 4954 section 4).
      authMethods: ['PLAIN', 'LOGIN'],
      authOptional: !submission,
      allowInsecureAuth: false,
      disabledCommands: submission ? [] : ['AUTH'],
      useXClient: submission && !!xclient,
      // PTR lookups cost a round trip per session and prove nothing; the address is in Received:.
      disableReverseLookup: true,
      closeTimeout: SMTP_CLOSE_TIMEOUT_MS,
      logger: false,
      onConnect: handlers.onConnect,
      onClose: handlers.onClose,
      onSecure: handlers.onSecure,
      onAuth: handlers.onAuth,
      onMailFrom: handlers.onMailFrom,
      onRcptTo: handlers.onRcptTo,
      onData: handlers.onData,
    });
    smtp.on('error', (error: Error) =>
      logger.warn({ listener: listenerConfig.name, err: describeError(error) }, 'session error'),
    );
    servers.push(smtp);
    const listener = await startListener({
      config: listenerConfig,
      host: options.listenHost,
      logger,
      clients: connections,
      onRefused: (reason) => metrics.connectionsRefused.inc({ role, listener: listenerConfig.name, reason }),
      onConnection: ({ socket, remoteAddress, remotePort, proxied }) => {
        const connection = smtp.connect(socket, proxied ? { remoteAddress, remotePort } : {});
        return {
          // Between transactions: no MAIL FROM yet, or the last message done.
          isIdle: () => !connection.session?.envelope?.mailFrom,
          goodbye: () => connection.send(421, replyText(REPLIES.shuttingDown)),
        };
      },
    });
    listeners.push(listener);
    shell.onDrain((graceMs) => listener.drain(graceMs));
  }
  shell.onTlsReload((material) => {
    for (const s of servers) s.updateSecureContext({ key: material.key, cert: material.cert });
  });
  shell.onDrain((graceMs) => queueScheduler.stop(graceMs));
  shell.onClose(() => {
    clearInterval(sweep);
    clearInterval(penaltySweep);
    verifier?.close();
  });
  shell.onClose(() => {
    for (const smtp of servers) smtp.close();
  });
  shell.onClose(() => directory?.close());
  shell.onClose(() => spool.close());

  return {
    ports: Object.fromEntries(listeners.map((l) => [l.name, l.port])),
    httpPort: shell.httpPort,
    scheduler: queueScheduler,
    stop: () => shell.stop(),
  };
}
