// The MTA configs the operator renders for an example site (`mtopo render -f examples/siroe.yaml`),
// made runnable on loopback. Protocol tests of the tiers start from these, so a test cannot pass on a
// config the operator would never write (issue 9: the gateway refused what the inbound tier sent it,
// and the hand-written test config hid that).
//
// The CLI runs as a separate process: the programs never import the operator (eslint.config.js).
// `localize` changes only what ties a config to a cluster — every next hop's host and port (each
// must be mapped, or it throws, so a new hop cannot slip through unmapped), listening ports (and the
// PROXY header, as there is no load balancer), file paths, the directory's address, and the pod
// ranges (which become loopback) — and nothing else. A test may then tighten a limit, by name.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mtaConfig, type MtaConfig, type MtaConfigOf, type MtaRole } from '../../lib/contract/mta.ts';
import type { DirectoryConfig, StoreMapConfig } from '../../lib/contract/common.ts';
import { freePort } from '../../../testing/support/free-ports.ts';

const REPO = new URL('../../../', import.meta.url).pathname;
const CLI = join(REPO, 'operator/src/cli/main.ts');

const rendered = new Map<string, Map<string, MtaConfig>>();

/** The MTA configs of an example, by tier name ("edge-mta", "inbound-mta"…). */
export function renderedMtaConfigs(example = 'siroe'): Map<string, MtaConfig> {
  return renderedMtaConfigsOf(readFileSync(join(REPO, 'examples', `${example}.yaml`), 'utf8'));
}

/** The MTA configs the operator renders for these manifests (an example a test changed), by tier name. */
export function renderedMtaConfigsOf(manifests: string): Map<string, MtaConfig> {
  const cached = rendered.get(manifests);
  if (cached) return cached;
  const json = execFileSync(process.execPath, [CLI, 'render', '-f', '-', '-o', 'json'], {
    input: manifests,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const parsed = JSON.parse(json) as { items?: RenderedObject[] } | RenderedObject[];
  const objects = Array.isArray(parsed) ? parsed : (parsed.items ?? []);
  const configs = new Map<string, MtaConfig>();
  for (const o of objects) {
    if (o.kind !== 'ConfigMap' || o.metadata?.labels?.['app.kubernetes.io/component'] !== 'mta') continue;
    const text = o.data?.['config.json'];
    if (!text) continue;
    configs.set(o.metadata.labels['mtopo.dev/tier'] ?? o.metadata.name, mtaConfig.parse(JSON.parse(text)));
  }
  rendered.set(manifests, configs);
  return configs;
}

interface RenderedObject {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  data?: Record<string, string>;
}

/** The rendered config of the tier with this role (the example, or the configs given, has one of each). */
export function renderedConfig<R extends MtaRole>(
  role: R,
  example: string | Map<string, MtaConfig> = 'siroe',
): MtaConfigOf<R> {
  const configs = typeof example === 'string' ? renderedMtaConfigs(example) : example;
  for (const config of configs.values()) {
    if (config.role === role) return config as MtaConfigOf<R>;
  }
  throw new Error(
    `${typeof example === 'string' ? `examples/${example}.yaml` : 'the site'} renders no MTA with role ${role}`,
  );
}

export interface LocalEnvironment {
  dir: string;
  /** Limits to tighten for the test (a deadline of seconds instead of minutes). */
  limits?: Partial<MtaConfig['limits']>;
  /** Each listener's connection limit, to fill it in a test. */
  maxConnections?: number;
  /** "host:port" as rendered → the loopback port that plays it. */
  hops: Record<string, number>;
  /** The test directory (slapd), for the tiers that have one. */
  directory?: DirectoryConfig;
  tls?: { certFile: string; keyFile: string };
  /**
   * Keep the rendered PROXY setting and the peers it believes (the test plays the load balancer
   * from an address the site names in service.proxyProtocolFrom). Otherwise no PROXY header.
   */
  asRenderedProxy?: boolean;
}

type HostPort = { host: string; port: number };

/** The rendered config, runnable on loopback; see the file comment for what changes. */
export async function localize<C extends MtaConfig>(config: C, env: LocalEnvironment): Promise<C> {
  mkdirSync(env.dir, { recursive: true });
  const hop = <T extends HostPort>(h: T, field: string): T => {
    const key = `${h.host}:${h.port}`;
    const port = env.hops[key];
    if (port === undefined) throw new Error(`${field}: the test maps no peer for ${key}`);
    return { ...h, host: '127.0.0.1', port };
  };
  const loopback = ['127.0.0.0/8'];
  // No load balancer on loopback: the PROXY header it would send is left out, unless the test
  // plays it.
  const listeners = await Promise.all(
    config.listeners.map(async (l) => ({
      ...l,
      port: await freePort(),
      ...(env.asRenderedProxy ? {} : { proxyProtocol: 'none' as const }),
      ...(env.maxConnections ? { maxConnections: env.maxConnections } : {}),
    })),
  );
  const common = {
    ...config.common,
    httpPort: await freePort(),
    drainSeconds: 5,
    ...(env.tls ? { tls: env.tls } : { tls: undefined }),
  };
  if (!env.tls) delete common.tls;
  const base = {
    ...config,
    listeners,
    common,
    limits: { ...config.limits, ...env.limits },
    queue: { ...config.queue, dir: join(env.dir, 'spool') },
  };
  const needDirectory = (): DirectoryConfig => {
    if (!env.directory) throw new Error(`the ${config.role} tier needs a test directory`);
    return env.directory;
  };
  const stores = (map: StoreMapConfig) =>
    Object.fromEntries(
      Object.entries(map).map(([mailHost, s]) => [
        mailHost,
        {
          ...s,
          host: '127.0.0.1',
          lmtpPort: hop({ host: s.host, port: s.lmtpPort }, `stores.${mailHost}`).port,
        },
      ]),
    );
  let local: MtaConfig;
  switch (base.role) {
    case 'internet':
      local = { ...base, relayTo: hop(base.relayTo, 'relayTo') };
      break;
    case 'inbound':
      local = {
        ...base,
        directory: needDirectory(),
        stores: stores(base.stores),
        ...(base.gateway ? { gateway: hop(base.gateway, 'gateway') } : {}),
        ...(base.acceptFrom ? { acceptFrom: loopback } : {}),
        ...(base.outboundRelay ? { outboundRelay: hop(base.outboundRelay, 'outboundRelay') } : {}),
      };
      break;
    case 'outbound':
      local = {
        ...base,
        directory: needDirectory(),
        stores: stores(base.stores),
        ...(base.gateway ? { gateway: hop(base.gateway, 'gateway') } : {}),
        routes: base.routes.map((r, i) => ({ ...r, to: hop(r.to, `routes.${i}`) })),
        ...(base.relayFrom ? { relayFrom: loopback } : {}),
        // The XCLIENT secret is the tests' own; the smarthost, if any, must be mapped.
        ...(base.xclient
          ? { xclient: { ...base.xclient, secretFile: join(env.dir, 'xclient-secret'), peerCidrs: loopback } }
          : {}),
        ...(base.smarthost ? { smarthost: hop(base.smarthost, 'smarthost') } : {}),
      };
      break;
    case 'gateway':
      local = {
        ...base,
        routes: base.routes.map((r, i) => ({ ...r, to: hop(r.to, `routes.${i}`) })),
        ...(base.legacyUsers ? { legacyUsers: hop(base.legacyUsers, 'legacyUsers') } : {}),
        ...(base.acceptFrom ? { acceptFrom: loopback } : {}),
      };
      break;
  }
  return mtaConfig.parse(local) as C;
}

/** A rendered config's hop as a key for LocalEnvironment.hops. */
export const hopKey = (h: HostPort): string => `${h.host}:${h.port}`;
