// The MMP config the operator renders for an example site (`mtopo render -f examples/siroe.yaml`),
// made runnable on loopback, as images/mta/testing/rendered-site.ts does for the MTA tiers. The CLI
// runs as a separate process (the programs never import the operator). `localize` changes only
// what ties the config to a cluster: listening ports, the PROXY header (no load balancer here,
// unless the test plays one), file paths, the directory, and each store's address (every rendered
// store must be mapped, or it throws). The SMTP proxy's listeners are kept when the test gives an
// outbound MTA for them, and left out otherwise.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DirectoryConfig } from '../../lib/contract/common.ts';
import { mmpConfig, type MmpConfig } from '../../lib/contract/mmp.ts';
import { freePort } from '../../../testing/support/free-ports.ts';

const REPO = new URL('../../../', import.meta.url).pathname;
const CLI = join(REPO, 'operator/src/cli/main.ts');

export interface RenderedObject {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  spec?: { template?: { spec?: { containers?: { env?: { name: string; value?: string }[] }[] } } };
}

const rendered = new Map<string, RenderedObject[]>();

/** Everything `mtopo render` makes of the example (rendered once per process). */
export function renderExample(example: string): RenderedObject[] {
  const known = rendered.get(example);
  if (known) return known;
  const json = execFileSync(
    process.execPath,
    [CLI, 'render', '-f', join(REPO, 'examples', `${example}.yaml`), '-o', 'json'],
    {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const parsed = JSON.parse(json) as { items?: RenderedObject[] } | RenderedObject[];
  const objects = Array.isArray(parsed) ? parsed : (parsed.items ?? []);
  rendered.set(example, objects);
  return objects;
}

const isMmp = (o: RenderedObject) => o.metadata.labels?.['app.kubernetes.io/component'] === 'mmp';

/**
 * The literal environment of the example's MMP Deployment (what the renderer sets for the
 * program, MALLOC_ARENA_MAX and NODE_OPTIONS among it; values from the downward API left out).
 */
export function renderedMmpEnv(example = 'siroe'): Record<string, string> {
  const deployment = renderExample(example).find((o) => o.kind === 'Deployment' && isMmp(o));
  const env = deployment?.spec?.template?.spec?.containers?.[0]?.env ?? [];
  return Object.fromEntries(env.flatMap((e) => (e.value !== undefined ? [[e.name, e.value]] : [])));
}

let cached: MmpConfig | undefined;

/** The example's (first) MMPPool config, as the operator renders it. */
export function renderedMmpConfig(example = 'siroe'): MmpConfig {
  if (cached && example === 'siroe') return cached;
  const objects = renderExample(example);
  const map = objects.find((o) => o.kind === 'ConfigMap' && isMmp(o));
  const text = map?.data?.['config.json'];
  if (!text) throw new Error(`examples/${example}.yaml renders no MMP config`);
  const config = mmpConfig.parse(JSON.parse(text));
  if (example === 'siroe') cached = config;
  return config;
}

/** The store hosts the operator renders for examples/siroe.yaml's three stores. */
export const SIROE_STORE = (i: number): string => `siroe-store-${i}.siroe-store.mail.svc.cluster.local`;

/** The siroe site's stores for a test with one: the first played by `ports`, the others down. */
export async function onlySiroeStoreZero(ports: {
  imapPort: number;
  pop3Port: number;
}): Promise<LocalMmpEnvironment['stores']> {
  const nobodyListens = await freePort();
  const down = { imapPort: nobodyListens, pop3Port: nobodyListens };
  return { [SIROE_STORE(0)]: ports, [SIROE_STORE(1)]: down, [SIROE_STORE(2)]: down };
}

export interface LocalMmpEnvironment {
  dir: string;
  directory: DirectoryConfig;
  /** Rendered store host → the loopback ports that play it. */
  stores: Record<string, { imapPort: number; pop3Port: number }>;
  tls: { certFile: string; keyFile: string };
  /** The shared secret the stores expect from the MMP. */
  proxySecret: string;
  /** Keep the rendered PROXY setting and trust these peers (a test playing the load balancer). */
  proxyProtocolFrom?: string[];
  /** What the stores offer after login, when they are not ours (Dovecot). */
  imapCapabilities?: string[];
  pop3Capabilities?: string[];
  limits?: Partial<MmpConfig['limits']>;
  /** The outbound MTA playing the rendered one, with the XCLIENT secret it expects. */
  smtpProxy?: { host: string; port: number; caFile?: string; xclientSecret: string };
  /** TLS from the MMP to the stores (the ports given are then the stores' implicit TLS ones). */
  storeTls?: { caFile: string };
  /** Overrides the rendered POP-before-SMTP window (0 turns it off). */
  popBeforeSmtpSeconds?: number;
}

export async function localize(config: MmpConfig, env: LocalMmpEnvironment): Promise<MmpConfig> {
  mkdirSync(env.dir, { recursive: true });
  const passwordFile = join(env.dir, 'store-proxy-secret');
  writeFileSync(passwordFile, `${env.proxySecret}\n`, { mode: 0o600 });
  const listeners = await Promise.all(
    config.listeners
      .filter((l) => env.smtpProxy !== undefined || !l.protocol.startsWith('submission'))
      .map(async (l) => ({
        ...l,
        port: await freePort(),
        proxyProtocol: env.proxyProtocolFrom ? l.proxyProtocol : ('none' as const),
        proxyProtocolFrom: env.proxyProtocolFrom,
      })),
  );
  const stores = Object.fromEntries(
    Object.entries(config.stores).map(([mailHost, s]) => {
      const local = env.stores[s.host];
      if (!local) throw new Error(`stores.${mailHost}: the test maps no store for ${s.host}`);
      return [mailHost, { ...s, host: '127.0.0.1', ...local }];
    }),
  );
  const { smtpProxy: rendered, ...rest } = config;
  let smtpProxy: MmpConfig['smtpProxy'];
  if (rendered && env.smtpProxy) {
    const xclientSecretFile = join(env.dir, 'xclient-secret');
    writeFileSync(xclientSecretFile, `${env.smtpProxy.xclientSecret}\n`, { mode: 0o600 });
    const { xclientSecret: _secret, ...outbound } = env.smtpProxy;
    const window = env.popBeforeSmtpSeconds ?? rendered.popBeforeSmtpSeconds;
    smtpProxy = { outbound, xclientSecretFile, ...(window ? { popBeforeSmtpSeconds: window } : {}) };
  }
  return mmpConfig.parse({
    ...rest,
    common: { ...config.common, httpPort: await freePort(), drainSeconds: 3, tls: env.tls },
    listeners,
    directory: env.directory,
    stores,
    proxyAuth: { ...config.proxyAuth, passwordFile },
    ...(smtpProxy ? { smtpProxy } : {}),
    ...(env.storeTls ? { storeTls: env.storeTls } : {}),
    ...(env.imapCapabilities ? { imapCapabilities: env.imapCapabilities } : {}),
    ...(env.pop3Capabilities ? { pop3Capabilities: env.pop3Capabilities } : {}),
    limits: { ...config.limits, ...env.limits },
  });
}
