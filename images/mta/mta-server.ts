// The MTA program assembled from its parts: config → directory client, spool, router, delivery
// scheduler, one smtp-server per listener, health and metrics. `startMta` returns once everything
// listens; `stop` is the SIGTERM path: stop accepting, let sessions finish their transaction and
// deliveries their attempt, keep the queue on disk.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { MtaConfig } from '../lib/config/mta.ts';
import { DirectoryClient, directoryMetrics } from '../lib/directory/directory-client.ts';
import { describeError, isMtopoError, MtopoError } from '../lib/errors.ts';
import { startHealthServer, type HealthServer } from '../lib/health-server.ts';
import { readSecretFile } from '../lib/secret-file.ts';
import { readTlsFiles, watchTlsFiles, type TlsMaterial } from '../lib/tls-files.ts';
import { ConnectionCounter, MessageRateLimiter } from './core/client-limits.ts';
import { freshState } from './core/envelope.ts';
import { NetworkSet, PRIVATE_RANGES } from './core/networks.ts';
import { buildRoutingTable, RecipientRouter, type DirectoryLookup } from './core/routing.ts';
import { createConnector } from './delivery/connector.ts';
import type { MxAnswer } from './delivery/mx-resolver.ts';
import { RecipientVerifier } from './delivery/recipient-probe.ts';
import { DeliveryScheduler } from './delivery/scheduler.ts';
import { mtaMetrics, type QueueStats } from './metrics.ts';
import { startListener, type Listener } from './receiving/listener.ts';
import { MtaSmtpServer } from './receiving/mta-smtp-server.ts';
import { createSessionHandlers } from './receiving/session-handlers.ts';
import { Spool } from './spool/spool.ts';

/**
 * How long a client must wait for the greeting; input before it is refused (421). The world-facing
 * tiers keep smtp-server's 100 ms, which catches blind pipelining by spambots; the internal tiers
 * are reached only by our own MTAs through the firewall, and a short window keeps connection setup
 * cheap for them (see receiving/mta-smtp-server.ts).
 */
const GREETING_DELAY_MS: Record<MtaConfig['role'], number> = {
  internet: 100,
  outbound: 100,
  inbound: 5,
  gateway: 5,
};

export interface MtaOptions {
  config: MtaConfig;
  logger: Logger;
  registry: Registry;
  /** Address to listen on: all interfaces in a pod, loopback in tests. */
  listenHost: string;
  /** Tests only: MX answers and the port MX hosts listen on. */
  resolveMx?: (domain: string) => Promise<MxAnswer>;
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

function networks(field: string, cidrs: readonly string[] | undefined): NetworkSet {
  try {
    return new NetworkSet(cidrs ?? PRIVATE_RANGES);
  } catch (error) {
    throw new MtopoError('ECONFIG', `${field}: ${describeError(error)}`);
  }
}

export async function startMta(options: MtaOptions): Promise<RunningMta> {
  const { config, logger, registry } = options;
  const role = config.role;
  if (role === 'internet' && !config.relayTo)
    throw new MtopoError('ECONFIG', 'relayTo: the internet role needs the inbound tier to relay to');
  if ((role === 'inbound' || role === 'outbound') && !config.directory) {
    throw new MtopoError(
      'ECONFIG',
      `directory: the ${role} role checks recipients in the directory and needs one`,
    );
  }
  const acceptFrom = networks('acceptFrom', config.acceptFrom);
  const xclient = config.xclient
    ? {
        secret: readSecretFile(config.xclient.secretFile),
        peers: networks('xclient.peerCidrs', config.xclient.peerCidrs),
      }
    : undefined;

  let tls: TlsMaterial | undefined = config.common.tls ? readTlsFiles(config.common.tls) : undefined;
  for (const l of config.listeners) {
    if (l.tls === 'implicit' && !tls)
      throw new MtopoError('ECONFIG', `listeners.${l.name}: implicit TLS needs common.tls`);
  }

  const directory = config.directory
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
      ...(options.resolveMx ? { resolveMx: options.resolveMx } : {}),
      ...(options.mxPort ? { mxPort: options.mxPort } : {}),
    }),
    logger,
    metrics,
  });
  stats = () => queueScheduler.stats();

  // What was queued before a restart (or a crash) is delivered first.
  const recovered = await spool.recover((file, error) =>
    logger.error({ file, err: describeError(error) }, 'damaged spool file left in place'),
  );
  // A recovered message may have a state file (or a damaged one) to clean up once it is delivered.
  for (const message of recovered) queueScheduler.add(message, message.state ?? freshState(Date.now()));
  if (recovered.length > 0) logger.info({ messages: recovered.length }, 'queue recovered');

  let draining = false;
  const connections = new ConnectionCounter();
  const rateLimiter = new MessageRateLimiter(config.limits.messagesPerMinutePerClient);
  const sweep = setInterval(() => rateLimiter.sweep(), 60_000);
  sweep.unref();

  const verifier =
    role === 'internet' && config.relayTo
      ? new RecipientVerifier({
          host: config.relayTo.host,
          port: config.relayTo.port,
          name: config.common.hostname,
          cacheTtlMs: 60_000,
        })
      : undefined;

  const servers: MtaSmtpServer[] = [];
  const listeners: Listener[] = [];
  for (const listenerConfig of config.listeners) {
    const handlers = createSessionHandlers(
      {
        role,
        hostname: config.common.hostname,
        submission: role === 'outbound',
        router,
        directory,
        acceptFrom,
        xclient,
        spool,
        connections,
        rateLimiter: role === 'internet' || role === 'outbound' ? rateLimiter : undefined,
        verifier,
        maxConnectionsPerClient: listenerConfig.maxConnectionsPerClient,
        isDraining: () => draining,
        onQueued: (message) => queueScheduler.add(message),
        metrics,
        logger,
      },
      listenerConfig.name,
    );
    const implicit = listenerConfig.tls === 'implicit';
    const submission = role === 'outbound';
    const smtp = new MtaSmtpServer({
      greetingDelayMs: GREETING_DELAY_MS[role],
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
      closeTimeout: 1000,
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
    listeners.push(await startListener({ config: listenerConfig, host: options.listenHost, smtp, logger }));
  }

  const stopWatching = config.common.tls
    ? watchTlsFiles(
        config.common.tls,
        (material) => {
          tls = material;
          for (const s of servers) s.updateSecureContext({ key: material.key, cert: material.cert });
          logger.info('TLS certificate reloaded');
        },
        (error) =>
          logger.error({ err: describeError(error) }, 'new TLS certificate refused; keeping the old one'),
      )
    : () => undefined;

  const health: HealthServer = await startHealthServer({
    port: config.common.httpPort,
    host: options.listenHost,
    registry,
    isDraining: () => draining,
    readiness: [
      { name: 'spool', check: () => spool.probe() },
      ...(directory ? [{ name: 'directory', check: () => directory.ping() }] : []),
    ],
  });

  return {
    ports: Object.fromEntries(listeners.map((l) => [l.name, l.port])),
    httpPort: health.port,
    scheduler: queueScheduler,
    async stop() {
      draining = true;
      const graceMs = config.common.drainSeconds * 1000;
      await Promise.all(listeners.map((l) => l.stopAccepting()));
      await Promise.all([...listeners.map((l) => l.drain(graceMs)), queueScheduler.stop(graceMs)]);
      clearInterval(sweep);
      verifier?.close();
      stopWatching();
      await health.close();
      await directory?.close();
      await spool.close();
    },
  };
}
