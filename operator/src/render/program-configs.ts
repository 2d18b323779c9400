// Each program's config file, built from the site and checked against the schema the program itself
// loads (images/lib/config). A config the program would refuse is a bug here, so it throws.
import { createHash } from 'node:crypto';
import { PRIVATE_RANGES } from '../../../images/lib/contract/cidr.ts';
import { PATHS, PORTS } from '../../../images/lib/contract/ports.ts';
import type { DirectoryConfig, ListenerConfig, StoreMapConfig } from '../../../images/lib/contract/common.ts';
import { mmpConfig, type MmpConfig } from '../../../images/lib/contract/mmp.ts';
import {
  mtaConfig,
  type MtaConfig,
  type MtaConfigOf,
  type MtaConfigSource,
} from '../../../images/lib/contract/mta.ts';
import { storeConfig, type StoreConfig } from '../../../images/lib/contract/store.ts';
import { parseByteQuantity, parseDurationMs } from '../api/common.ts';
import { INTERNAL_KEYS, STORE_PROXY_USER } from './secrets.ts';
import { headlessServiceName } from './services.ts';
import { publishedHostnames, relaysWithRole, type PoolTier, type RelayTier, type Site } from './site.ts';

const seconds = (duration: string) => Math.round(parseDurationMs(duration) / 1000);

export const TLS_FILES = { certFile: `${PATHS.tlsDir}/tls.crt`, keyFile: `${PATHS.tlsDir}/tls.key` };

/**
 * The CA of the site's own certificate, from the same Secret (cert-manager writes it as ca.crt). The
 * MMP checks the outbound MTA's certificate for its Service name, which only the site's CA can have
 * signed: no public CA issues for *.svc names, so Node's bundled roots could never verify it.
 */
export const SITE_CA_FILE = `${PATHS.tlsDir}/ca.crt`;

function serviceFqdn(site: Site, service: string): string {
  return `${service}.${site.namespace}.svc.${site.topology.spec.network.clusterDomain}`;
}

/** One store replica as a user's directory entry names it. */
export interface StoreHost {
  /** The pod name, e.g. "siroe-store-0": the short mailHost value. */
  name: string;
  /** Its stable DNS name, the other mailHost value it answers to. */
  host: string;
}

/** The stores, in ordinal order: what a directory's mailHost may hold. */
export function storeHosts(site: Site): StoreHost[] {
  return Array.from({ length: site.store.replicas }, (_, i) => {
    const name = `${site.store.name}-${i}`;
    return { name, host: `${name}.${serviceFqdn(site, site.store.name)}` };
  });
}

/** Each store replica answers to its pod name and to its stable DNS name as mailHost values. */
export function storeMap(site: Site): StoreMapConfig {
  const map: StoreMapConfig = {};
  for (const { name, host } of storeHosts(site)) {
    const address = {
      host,
      lmtpPort: PORTS.lmtp.container,
      imapPort: PORTS.imap.container,
      pop3Port: PORTS.pop3.container,
    };
    map[name] = address;
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
  proxy: { protocol: ListenerConfig['proxyProtocol']; from: string[] } = { protocol: 'none', from: [] },
): ListenerConfig {
  return {
    name: protocol,
    protocol,
    port: PORTS[protocol].container,
    tls,
    proxyProtocol: proxy.protocol,
    ...(proxy.protocol !== 'none' ? { proxyProtocolFrom: proxy.from } : {}),
    ...limits,
  };
}

/**
 * The load balancer is the only peer whose PROXY header counts (the program's listener refuses
 * anyone else's): the tier names its addresses (its service.proxyProtocolFrom), or it
 * reaches the pods from the cluster's ranges (or, without them, from private ones); a client never
 * does.
 */
function proxyOf(site: Site, protocol: ListenerConfig['proxyProtocol'], named?: readonly string[]) {
  const { clusterCIDRs } = site.topology.spec.network;
  const from = named ?? (clusterCIDRs.length > 0 ? clusterCIDRs : PRIVATE_RANGES);
  return { protocol, from: [...from] };
}

function gatewayOf(site: Site): { host: string; port: number; domains: string[] } | undefined {
  const gw = relaysWithRole(site, 'gateway')[0];
  if (!gw) return undefined;
  return {
    host: serviceFqdn(site, gw.name),
    port: PORTS.smtp.service,
    domains: [...new Set((gw.relay.spec.routes ?? []).flatMap((r) => r.domains))].sort(),
  };
}

/**
 * Where the inbound tier hands mail for the outside (forwarding, bounces): the outbound tier's relay
 * listener, reached pod by pod through its headless Service. That listener is on no Service port, so
 * no load balancer ever exposes it; the firewall opens it to the inbound tier alone.
 */
function outboundRelayOf(site: Site): MtaConfigOf<'inbound'>['outboundRelay'] {
  const outbound = relaysWithRole(site, 'outbound')[0];
  if (!outbound) return undefined;
  return {
    host: serviceFqdn(site, headlessServiceName(outbound)),
    port: PORTS.smtp.container,
    tls: 'opportunistic',
  };
}

export function relayConfig(site: Site, tier: RelayTier): MtaConfig {
  const spec = tier.relay.spec;
  const role = spec.role;
  const limits = {
    maxConnections: spec.limits.maxConnections,
    maxConnectionsPerClient: spec.limits.maxConnectionsPerClient,
  };
  // Only the tiers behind a load balancer (internet, outbound's submission) read PROXY headers.
  const proxy = proxyOf(site, spec.service.proxyProtocol, spec.service.proxyProtocolFrom);
  const inbound = relaysWithRole(site, 'inbound')[0];
  // Behind the NetworkPolicies, a second check in the program itself: the internal tiers serve only
  // the cluster's pods (and, for the inbound tier, the legacy systems). Without known cluster ranges
  // the program's own default (loopback and private ranges) applies.
  const { clusterCIDRs, legacySystems } = site.topology.spec.network;
  const podPeers = clusterCIDRs.length === 0 ? undefined : [...clusterCIDRs];
  const shared = {
    program: 'mta' as const,
    // The internet-facing and outbound tiers speak to the world under the published MX name, which
    // their certificate covers; internal tiers use their Service's name.
    common: common(
      role === 'internet' || role === 'outbound' ? publishedHostnames(site).mx : serviceFqdn(site, tier.name),
    ),
    domains: [...site.topology.spec.domains],
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
  const smtpListener = (behindProxy?: typeof proxy) => listener('smtp', 'starttls', limits, behindProxy);
  const routes = (spec.routes ?? []).map((r) => ({ domains: [...r.domains], to: { ...r.to } }));
  const gateway = gatewayOf(site);

  switch (role) {
    case 'internet':
      return mtaConfig.parse({
        ...shared,
        role,
        listeners: [smtpListener(proxy)],
        // Without an inbound tier the site warns (status) and the edge queues what it accepts.
        relayTo: {
          host: inbound ? serviceFqdn(site, inbound.name) : `inbound-mta.${site.namespace}.invalid`,
          port: PORTS.smtp.service,
          tls: 'opportunistic',
        },
      } satisfies MtaConfigSource<'internet'>);
    case 'inbound': {
      const outboundRelay = outboundRelayOf(site);
      return mtaConfig.parse({
        ...shared,
        role,
        listeners: [smtpListener()],
        directory: directory(site),
        stores: storeMap(site),
        ...(gateway ? { gateway } : {}),
        ...(podPeers ? { acceptFrom: [...podPeers, ...legacySystems.flatMap((l) => l.cidrs)] } : {}),
        ...(outboundRelay ? { outboundRelay } : {}),
      } satisfies MtaConfigSource<'inbound'>);
    }
    case 'outbound': {
      const xclient = site.pools.some((p) => p.smtpProxyTarget === tier);
      return mtaConfig.parse({
        ...shared,
        role,
        listeners: [
          listener('submission', 'starttls', limits, proxy),
          listener('submissions', 'implicit', limits, proxy),
          // The inbound tier's hand-off of mail for the outside (see outboundRelayOf).
          ...(inbound ? [smtpListener()] : []),
        ],
        directory: directory(site),
        stores: storeMap(site),
        ...(gateway ? { gateway } : {}),
        routes,
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
                ...(podPeers ? { peerCidrs: podPeers } : {}),
              },
            }
          : {}),
        ...(inbound && podPeers ? { relayFrom: podPeers } : {}),
      } satisfies MtaConfigSource<'outbound'>);
    }
    case 'gateway':
      return mtaConfig.parse({
        ...shared,
        role,
        listeners: [smtpListener()],
        routes,
        // Hosted-domain users whose mailHost names no store are still on the legacy system: the
        // inbound tier sends them here, and the first route's host receives them.
        ...(routes[0] ? { legacyUsers: { ...routes[0].to } } : {}),
        ...(podPeers ? { acceptFrom: podPeers } : {}),
      } satisfies MtaConfigSource<'gateway'>);
  }
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
    ...storeQuota(site),
  });
}

/** The site's quota in the store's terms (bytes and a count); nothing where the topology sets none. */
function storeQuota(site: Site): Pick<StoreConfig, 'quota'> {
  const quota = site.topology.spec.stores.quota;
  if (!quota || (quota.storage === undefined && quota.messages === undefined)) return {};
  return {
    quota: {
      ...(quota.storage !== undefined ? { storageBytes: parseByteQuantity(quota.storage) } : {}),
      ...(quota.messages !== undefined ? { messages: quota.messages } : {}),
    },
  };
}

export function poolConfig(site: Site, tier: PoolTier): MmpConfig {
  const spec = tier.pool.spec;
  const limits = {
    maxConnections: spec.limits.maxConnections,
    maxConnectionsPerClient: spec.limits.maxConnectionsPerClient,
  };
  const proxy = proxyOf(site, spec.service.proxyProtocol, spec.service.proxyProtocolFrom);
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
            outbound: {
              host: serviceFqdn(site, target.name),
              port: PORTS.submission.service,
              caFile: SITE_CA_FILE,
            },
            xclientSecretFile: `${PATHS.internalSecretDir}/${INTERNAL_KEYS.xclientSecret}`,
            ...(spec.smtpProxy.popBeforeSmtp
              ? { popBeforeSmtpSeconds: seconds(spec.smtpProxy.popBeforeSmtp.window) }
              : {}),
          },
        }
      : {}),
    limits: {
      // BadGuy: `loginFailuresPerMinute` failures a minute are free, then each answer is delayed;
      // three times as many lock the address (or the account) out for 15 minutes.
      badGuy: {
        freeFailures: spec.limits.loginFailuresPerMinute,
        maxFailures: spec.limits.loginFailuresPerMinute * 3,
        decaySeconds: 60,
        penaltySeconds: 15 * 60,
      },
      idleTimeoutSeconds: seconds(spec.limits.idleTimeout),
    },
  });
}

/** Stable JSON for the ConfigMap, and its hash for the pod template so a config change rolls the pods. */
export function serializeConfig(config: MtaConfig | StoreConfig | MmpConfig): { json: string; hash: string } {
  const json = `${JSON.stringify(config, null, 2)}\n`;
  return { json, hash: createHash('sha256').update(json).digest('hex').slice(0, 16) };
}
