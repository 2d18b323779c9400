// Each program's config file, built from the site and checked against the schema the program itself
// loads (images/lib/config). A config the program would refuse is a bug here, so it throws.
import { createHash } from 'node:crypto';
import { PATHS, PORTS } from '../../../images/lib/ports.ts';
import type { DirectoryConfig, ListenerConfig, StoreMapConfig } from '../../../images/lib/config/common.ts';
import { mmpConfig, type MmpConfig } from '../../../images/lib/config/mmp.ts';
import { mtaConfig, type MtaConfig } from '../../../images/lib/config/mta.ts';
import { storeConfig, type StoreConfig } from '../../../images/lib/config/store.ts';
import { parseByteQuantity, parseDurationMs } from '../api/common.ts';
import { INTERNAL_KEYS, STORE_PROXY_USER } from './secrets.ts';
import { publishedHostnames, relaysWithRole, type PoolTier, type RelayTier, type Site } from './site.ts';

const seconds = (duration: string) => Math.round(parseDurationMs(duration) / 1000);

export const TLS_FILES = { certFile: `${PATHS.tlsDir}/tls.crt`, keyFile: `${PATHS.tlsDir}/tls.key` };

function serviceFqdn(site: Site, service: string): string {
  return `${service}.${site.namespace}.svc.${site.topology.spec.network.clusterDomain}`;
}

/** Each store replica answers to its pod name and to its stable DNS name as mailHost values. */
export function storeMap(site: Site): StoreMapConfig {
  const map: StoreMapConfig = {};
  for (let i = 0; i < site.store.replicas; i++) {
    const pod = `${site.store.name}-${i}`;
    const host = `${pod}.${serviceFqdn(site, site.store.name)}`;
    const address = {
      host,
      lmtpPort: PORTS.lmtp.container,
      imapPort: PORTS.imap.container,
      pop3Port: PORTS.pop3.container,
    };
    map[pod] = address;
    map[host] = address;
  }
  return map;
}

function directory(site: Site): DirectoryConfig {
  const d = site.topology.spec.directory;
  return {
    urls: [...d.urls],
    baseDN: d.baseDN,
    bindDNFile: `${PATHS.directorySecretDir}/bindDN`,
    passwordFile: `${PATHS.directorySecretDir}/password`,
    ...(d.caSecretRef ? { caFile: `${PATHS.directoryCaDir}/ca.crt` } : {}),
    attributes: { ...d.attributes },
    cacheTTLSeconds: seconds(d.cacheTTL),
    timeoutMs: 5000,
  };
}

function common(hostname: string, drainSeconds = 25) {
  return {
    hostname,
    httpPort: PORTS.http.container,
    logLevel: 'info' as const,
    tls: TLS_FILES,
    drainSeconds,
  };
}

function listener(
  protocol: ListenerConfig['protocol'],
  tls: ListenerConfig['tls'],
  limits: { maxConnections: number; maxConnectionsPerClient: number },
  proxyProtocol: ListenerConfig['proxyProtocol'] = 'none',
): ListenerConfig {
  return { name: protocol, protocol, port: PORTS[protocol].container, tls, proxyProtocol, ...limits };
}

function gatewayOf(site: Site): MtaConfig['gateway'] {
  const gw = relaysWithRole(site, 'gateway')[0];
  if (!gw) return undefined;
  return {
    host: serviceFqdn(site, gw.name),
    port: PORTS.smtp.service,
    domains: [...new Set((gw.relay.spec.routes ?? []).flatMap((r) => r.domains))].sort(),
  };
}

export function relayConfig(site: Site, tier: RelayTier): MtaConfig {
  const spec = tier.relay.spec;
  const role = spec.role;
  const limits = {
    maxConnections: spec.limits.maxConnections,
    maxConnectionsPerClient: spec.limits.maxConnectionsPerClient,
  };
  const proxy = spec.service.proxyProtocol;
  const listeners: ListenerConfig[] =
    role === 'outbound'
      ? [
          listener('submission', 'starttls', limits, proxy),
          listener('submissions', 'implicit', limits, proxy),
        ]
      : [listener('smtp', 'starttls', limits, role === 'internet' ? proxy : 'none')];
  const inbound = relaysWithRole(site, 'inbound')[0];
  const usesDirectory = role === 'inbound' || role === 'outbound';
  const xclient = role === 'outbound' && site.pools.some((p) => p.smtpProxyTarget === tier);
  // Behind the NetworkPolicies, a second check in the program itself: the internal tiers serve only
  // the cluster's pods (and, for the inbound tier, the legacy systems). Without known cluster ranges
  // the program's own default (loopback and private ranges) applies.
  const { clusterCIDRs, legacySystems } = site.topology.spec.network;
  const internalPeers =
    clusterCIDRs.length === 0
      ? undefined
      : role === 'inbound'
        ? [...clusterCIDRs, ...legacySystems.flatMap((l) => l.cidrs)]
        : [...clusterCIDRs];
  const config = {
    program: 'mta' as const,
    role,
    // The internet-facing and outbound tiers speak to the world under the published MX name, which
    // their certificate covers; internal tiers use their Service's name.
    common: common(
      role === 'internet' || role === 'outbound' ? publishedHostnames(site).mx : serviceFqdn(site, tier.name),
    ),
    listeners,
    domains: [...site.topology.spec.domains],
    ...(usesDirectory ? { directory: directory(site) } : {}),
    ...(role === 'internet' && inbound
      ? {
          relayTo: {
            host: serviceFqdn(site, inbound.name),
            port: PORTS.smtp.service,
            tls: 'opportunistic' as const,
          },
        }
      : {}),
    stores: usesDirectory ? storeMap(site) : {},
    ...(usesDirectory && gatewayOf(site) ? { gateway: gatewayOf(site) } : {}),
    routes: (spec.routes ?? []).map((r) => ({ domains: [...r.domains], to: { ...r.to } })),
    ...(spec.smarthost
      ? {
          smarthost: {
            host: spec.smarthost.host,
            port: spec.smarthost.port,
            tls: spec.smarthost.tls,
            ...(spec.smarthost.authSecretRef
              ? {
                  usernameFile: `${PATHS.smarthostSecretDir}/username`,
                  passwordFile: `${PATHS.smarthostSecretDir}/password`,
                }
              : {}),
          },
        }
      : {}),
    ...(xclient
      ? {
          xclient: {
            secretFile: `${PATHS.internalSecretDir}/${INTERNAL_KEYS.xclientSecret}`,
            ...(internalPeers ? { peerCidrs: internalPeers } : {}),
          },
        }
      : {}),
    ...((role === 'inbound' || role === 'gateway') && internalPeers ? { acceptFrom: internalPeers } : {}),
    limits: {
      maxMessageBytes: parseByteQuantity(spec.limits.maxMessageSize),
      maxRecipients: spec.limits.maxRecipients,
      messagesPerMinutePerClient: spec.limits.messagesPerMinutePerClient,
      deliveryConcurrency: spec.limits.deliveryConcurrency,
    },
    queue: {
      dir: PATHS.spool,
      lifetimeSeconds: seconds(spec.queue.lifetime),
      retryInitialSeconds: seconds(spec.queue.retryInitial),
      retryMaxSeconds: seconds(spec.queue.retryMax),
    },
  };
  return mtaConfig.parse(config);
}

export function storeProgramConfig(site: Site): StoreConfig {
  const largest = Math.max(
    parseByteQuantity('25Mi'),
    ...site.relays.map((r) => parseByteQuantity(r.relay.spec.limits.maxMessageSize)),
  );
  const limits = { maxConnections: 10000, maxConnectionsPerClient: 10000 };
  return storeConfig.parse({
    program: 'store',
    common: common(serviceFqdn(site, site.store.name)),
    listeners: [
      listener('lmtp', 'starttls', limits),
      listener('imap', 'starttls', limits),
      listener('pop3', 'starttls', limits),
    ],
    domains: [...site.topology.spec.domains],
    dataDir: PATHS.mail,
    proxyAuth: {
      username: STORE_PROXY_USER,
      passwordFile: `${PATHS.internalSecretDir}/${INTERNAL_KEYS.storeProxyPassword}`,
    },
    maxMessageBytes: largest,
  });
}

export function poolConfig(site: Site, tier: PoolTier): MmpConfig {
  const spec = tier.pool.spec;
  const limits = {
    maxConnections: spec.limits.maxConnections,
    maxConnectionsPerClient: spec.limits.maxConnectionsPerClient,
  };
  const proxy = spec.service.proxyProtocol;
  const tlsOf = (p: string): ListenerConfig['tls'] => (p.endsWith('s') ? 'implicit' : 'starttls');
  const listeners = spec.protocols.map((p) => listener(p, tlsOf(p), limits, proxy));
  const target = tier.smtpProxyTarget;
  if (target) {
    listeners.push(
      listener('submission', 'starttls', limits, proxy),
      listener('submissions', 'implicit', limits, proxy),
    );
  }
  return mmpConfig.parse({
    program: 'mmp',
    common: common(publishedHostnames(site).clients),
    listeners,
    domains: [...site.topology.spec.domains],
    directory: directory(site),
    stores: storeMap(site),
    proxyAuth: {
      username: STORE_PROXY_USER,
      passwordFile: `${PATHS.internalSecretDir}/${INTERNAL_KEYS.storeProxyPassword}`,
    },
    ...(target
      ? {
          smtpProxy: {
            outbound: { host: serviceFqdn(site, target.name), port: PORTS.submission.service },
            xclientSecretFile: `${PATHS.internalSecretDir}/${INTERNAL_KEYS.xclientSecret}`,
            ...(spec.smtpProxy.popBeforeSmtp
              ? { popBeforeSmtpSeconds: seconds(spec.smtpProxy.popBeforeSmtp.window) }
              : {}),
          },
        }
      : {}),
    limits: {
      loginFailuresPerMinute: spec.limits.loginFailuresPerMinute,
      idleTimeoutSeconds: seconds(spec.limits.idleTimeout),
    },
  });
}

/** Stable JSON for the ConfigMap, and its hash for the pod template so a config change rolls the pods. */
export function serializeConfig(config: MtaConfig | StoreConfig | MmpConfig): { json: string; hash: string } {
  const json = `${JSON.stringify(config, null, 2)}\n`;
  return { json, hash: createHash('sha256').update(json).digest('hex').slice(0, 16) };
}
