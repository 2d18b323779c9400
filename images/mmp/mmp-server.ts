// The MMP assembled from its parts: config → directory client, login cache, penalty boxes, the
// login flow, one kit listener per configured port (PROXY v1/v2 read first, connections counted per
// client), the admin socket, health and metrics. `startMmp` returns once everything listens; `stop`
// is the SIGTERM path (the kit's ProgramShell): stop accepting, say goodbye to sessions before login
// at once, give spliced sessions the grace period, then cut them.
import { createSecureContext, type SecureContext } from 'node:tls';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { PenaltyBox, type PenaltyPolicy } from '../lib/auth/penalty-box.ts';
import type { BadGuyConfig, MmpConfig } from '../lib/contract/mmp.ts';
import { DirectoryClient, directoryMetrics } from '../lib/directory/directory-client.ts';
import { MtopoError } from '../lib/errors.ts';
import { startIdleCollector, type QuietPolicy } from '../lib/idle-collector.ts';
import { ProgramShell } from '../lib/lifecycle.ts';
import { readSecretFile } from '../lib/secret-file.ts';
import { TtlCache } from '../lib/ttl-cache.ts';
import { ClientConnections } from '../lib/server/client-limits.ts';
import { startListener, type Listener } from '../lib/server/listener.ts';
import { DEFAULT_ADMIN_SOCKET, startAdminSocket } from './admin-socket.ts';
import { startClientSession } from './client-session.ts';
import { loginCacheEntries, loginLimits, spliceLimits, warmStoreConnections } from './limits.ts';
import { LoginFlow, type SessionProtocol } from './login-flow.ts';
import { mmpMetrics } from './metrics.ts';
import { ProxiedSessions } from './proxied-sessions.ts';
import { WarmConnections } from './warm-connections.ts';
import { identityOf, LoginCache } from './routing/login-cache.ts';
import { indexStores } from './routing/store-route.ts';
import { DEFAULT_RELAY_EXTENSIONS, relayExtensions } from './smtp/extensions.ts';
import { probeRelay } from './smtp/relay-probe.ts';

export interface MmpOptions {
  config: MmpConfig;
  logger: Logger;
  registry: Registry;
  /** Address to listen on: all interfaces in a pod, loopback in tests. */
  listenHost: string;
  /** The admin socket (end-sessions.ts); tests give each MMP its own. */
  adminSocket?: string;
  /** Tests shorten the failure floor (never to zero: the timing test needs it). */
  failureFloorMs?: number;
  /** Tests shorten the time from connect to login (a slow client's test). */
  preLoginTimeoutMs?: number;
  /** Tests collect after a short quiet period, whatever the growth. */
  idleCollection?: QuietPolicy;
}

export interface RunningMmp {
  ports: Record<string, number>;
  httpPort: number;
  stop(): Promise<void>;
}

/** The penalty box's policy from the BadGuy settings: delays double from 1 s up to 16 s. */
export function badGuyPolicy(badGuy: BadGuyConfig): PenaltyPolicy {
  return {
    freeFailures: badGuy.freeFailures,
    baseDelayMs: 1000,
    maxDelayMs: 16_000,
    lockoutAfter: badGuy.maxFailures,
    lockoutMs: badGuy.penaltySeconds * 1000,
    windowMs: badGuy.decaySeconds * 1000,
  };
}

const PROTOCOL_OF: Partial<Record<MmpConfig['listeners'][number]['protocol'], SessionProtocol>> = {
  imap: 'imap',
  imaps: 'imap',
  pop3: 'pop3',
  pop3s: 'pop3',
  submission: 'smtp',
  submissions: 'smtp',
};

/**
 * A mounted secret, read again at most every few seconds: a rotated Secret is used within that
 * time, and a burst of logins does not read the file once each.
 */
function recentSecret(file: string, maxAgeMs = 5000): () => string {
  let value = '';
  let readAt = -Infinity;
  return () => {
    const now = performance.now();
    if (now - readAt > maxAgeMs) {
      value = readSecretFile(file);
      readAt = now;
    }
    return value;
  };
}

export async function startMmp(options: MmpOptions): Promise<RunningMmp> {
  const { config, logger, registry } = options;
  for (const l of config.listeners) {
    if (l.tls !== 'none' && !config.common.tls)
      throw new MtopoError('ECONFIG', `listeners.${l.name}: TLS (${l.tls}) needs common.tls`);
  }
  const served = config.listeners.filter((l) => {
    const protocol = PROTOCOL_OF[l.protocol];
    if (protocol === 'smtp' && !config.smtpProxy)
      throw new MtopoError('ECONFIG', `listeners.${l.name}: submission needs smtpProxy (the outbound MTA)`);
    if (!protocol)
      throw new MtopoError('ECONFIG', `listeners.${l.name}: the MMP does not serve ${l.protocol}`);
    return true;
  });
  // Read once at start so a missing Secret fails the start, and again at each login (rotation).
  readSecretFile(config.proxyAuth.passwordFile);

  const metrics = mmpMetrics(registry);
  const directory = new DirectoryClient({ config: config.directory, metrics: directoryMetrics(registry) });
  const shell = await ProgramShell.start({
    program: 'mmp',
    common: config.common,
    listenHost: options.listenHost,
    registry,
    logger,
    readiness: [{ name: 'directory', check: () => directory.ping() }],
  });
  let secureContext: SecureContext | undefined = shell.tls
    ? createSecureContext({ ...shell.tls, minVersion: 'TLSv1.2' })
    : undefined;
  shell.onTlsReload((material) => {
    secureContext = createSecureContext({ ...material, minVersion: 'TLSv1.2' });
  });

  const cache = new LoginCache({
    ttlMs: config.directory.cacheTTLSeconds * 1000,
    maxEntries: loginCacheEntries,
  });
  const policy = badGuyPolicy(config.limits.badGuy);
  const penaltiesByAddress = new PenaltyBox(policy);
  const penaltiesByUser = new PenaltyBox(policy);
  const penaltySweep = setInterval(() => {
    penaltiesByAddress.sweep();
    penaltiesByUser.sweep();
  }, 60_000);
  penaltySweep.unref();
  const storeCa = config.storeTls?.caFile ? readFileSync(config.storeTls.caFile) : undefined;
  const warm = new WarmConnections(warmStoreConnections);
  const smtpProxy = config.smtpProxy;
  if (smtpProxy) readSecretFile(smtpProxy.xclientSecretFile);
  const relayCa = smtpProxy?.outbound.caFile ? readFileSync(smtpProxy.outbound.caFile) : undefined;
  // The outbound MTA's EHLO keywords, as it last answered: what submission clients are offered.
  let relayKeywords: readonly string[] = DEFAULT_RELAY_EXTENSIONS;
  // POP-before-SMTP: per replica (docs/mmp.md); a client's POP and SMTP reach the same replica
  // when the pool's Service keeps client affinity.
  const recentLogins = smtpProxy?.popBeforeSmtpSeconds
    ? new TtlCache<string, string>({
        ttlMs: smtpProxy.popBeforeSmtpSeconds * 1000,
        maxEntries: loginCacheEntries,
      })
    : undefined;
  const loginFlow = new LoginFlow({
    directory,
    cache,
    penaltiesByAddress,
    penaltiesByUser,
    stores: indexStores(config.stores),
    storeTls: config.storeTls ? (storeCa ? { ca: storeCa } : {}) : undefined,
    proxyUser: config.proxyAuth.username,
    proxySecret: recentSecret(config.proxyAuth.passwordFile),
    metrics,
    logger,
    ...(options.failureFloorMs !== undefined ? { failureFloorMs: options.failureFloorMs } : {}),
    relay: smtpProxy && {
      host: smtpProxy.outbound.host,
      port: smtpProxy.outbound.port,
      tls: relayCa ? { ca: relayCa } : {},
      hostname: config.common.hostname,
      secret: recentSecret(smtpProxy.xclientSecretFile),
      learned: (ehlo) => {
        relayKeywords = relayExtensions(ehlo);
      },
    },
    recentLogins,
    warm,
  });
  if (smtpProxy)
    void probeRelay(smtpProxy.outbound, config.common.hostname).then((ehlo) => {
      if (ehlo) relayKeywords = relayExtensions(ehlo);
      else
        logger.warn({ relay: smtpProxy.outbound.host }, 'the outbound MTA did not answer an EHLO at start');
    });
  const proxied = new ProxiedSessions();
  const idleTimeoutMs = Math.max(config.limits.idleTimeoutSeconds * 1000, spliceLimits.minIdleTimeoutMs);
  const clients = new ClientConnections();
  // After a login storm, once connections stop coming, the memory the storm grew goes back.
  const idleCollector = startIdleCollector(
    ({ pauseMs, rssBeforeMiB, rssAfterMiB }) =>
      logger.info(
        {
          pauseMs: Math.round(pauseMs),
          rssMiB: Math.round(rssAfterMiB),
          freedMiB: Math.round(rssBeforeMiB - rssAfterMiB),
        },
        'memory collected after a busy period',
      ),
    options.idleCollection,
  );

  const listeners: Listener[] = [];
  // Shared by every session (it would otherwise hold a closure of its own for its whole life).
  const currentSecureContext = () => secureContext;
  const currentRelayKeywords = () => relayKeywords;
  for (const listenerConfig of served) {
    const protocol = PROTOCOL_OF[listenerConfig.protocol]!;
    const implicitTls = listenerConfig.tls === 'implicit';
    // The pre-login settings are the listener's: one object for all its sessions.
    const core = {
      starttls: listenerConfig.tls === 'starttls' && secureContext !== undefined,
      plaintextLogin: config.plaintextLogin,
      storeCapabilities: protocol === 'imap' ? config.imapCapabilities : config.pop3Capabilities,
      maxPipelinedBytes: loginLimits.maxPipelinedBytes,
      hostname: config.common.hostname,
      relayExtensions: currentRelayKeywords,
      popBeforeSmtp: recentLogins !== undefined,
    };
    const listener = await startListener({
      config: listenerConfig,
      host: options.listenHost,
      logger,
      clients,
      // The listener believes a PROXY header only from proxyProtocolFrom and refuses other peers.
      onRefused: (reason) => metrics.refusedConnections.inc({ listener: listenerConfig.name, reason }),
      onConnection: ({ socket, remoteAddress, remotePort, connectionsFromClient }) => {
        idleCollector.activity();
        if (shell.draining) {
          socket.destroy();
          return { isIdle: () => true, goodbye: () => undefined };
        }
        return startClientSession({
          protocol,
          listener: listenerConfig.name,
          socket,
          remoteAddress,
          remotePort,
          connectionsFromClient,
          maxConnectionsPerClient: listenerConfig.maxConnectionsPerClient,
          implicitTls,
          secureContext: currentSecureContext,
          core,
          loginFlow,
          proxied,
          warm,
          idleTimeoutMs,
          ...(options.preLoginTimeoutMs !== undefined
            ? { preLoginTimeoutMs: options.preLoginTimeoutMs }
            : {}),
          metrics,
          logger,
        });
      },
    });
    listeners.push(listener);
    shell.onDrain((graceMs) => listener.drain(graceMs));
  }

  const admin = await startAdminSocket(
    options.adminSocket ?? DEFAULT_ADMIN_SOCKET,
    async ({ user }) => {
      cache.clear();
      // Sessions are kept by account (the primary address); the operator may name the uid too.
      const entry = await directory.findLogin(user).catch(() => null);
      return { ok: true, ended: proxied.endUser(entry ? identityOf(entry) : user) };
    },
    logger,
  );
  shell.onClose(() => admin.close());
  shell.onClose(() => clearInterval(penaltySweep));
  shell.onClose(() => idleCollector.stop());
  shell.onClose(() => directory.close());
  shell.onClose(() => warm.close());

  return {
    ports: Object.fromEntries(listeners.map((l) => [l.name, l.port])),
    httpPort: shell.httpPort,
    stop: () => shell.stop(),
  };
}
