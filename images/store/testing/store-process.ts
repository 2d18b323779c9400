// Runs the store as the real program (`node images/store/main.ts`) in a child process, with a
// config, a proxy secret and a TLS pair written to a temp folder, for protocol tests. A separate
// process can be killed with SIGKILL and started again on the same data directory.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StoreConfig } from '../../lib/contract/store.ts';
import { makeSelfSignedCertificate } from '../../../testing/peers/tls-fixture.ts';
import { freePorts } from '../../../testing/support/free-ports.ts';
import { ManagedProcess } from '../../../testing/support/processes.ts';
import { waitFor } from '../../../testing/support/wait.ts';

const MAIN = new URL('../main.ts', import.meta.url).pathname;

export const PROXY_USER = 'mmp';
export const PROXY_SECRET = 'the shared secret';
export const DOMAIN = 'siroe.example';

export interface StoreProcess {
  readonly config: StoreConfig;
  readonly dir: string;
  readonly ports: { lmtp: number; pop3: number; pop3s: number; imap: number; imaps: number };
  readonly httpPort: number;
  readonly process: ManagedProcess;
  readonly caFile: string;
  logs(): Record<string, unknown>[];
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  http(path: string): Promise<{ status: number; body: string }>;
  stop(): Promise<void>;
  kill(): Promise<void>;
  /** Starts the program again on the same config and data directory. */
  restart(): Promise<StoreProcess>;
}

export async function startStoreProcess(
  dir: string,
  overrides: Partial<Pick<StoreConfig, 'quota' | 'maxMessageBytes' | 'domains'>> = {},
): Promise<StoreProcess> {
  mkdirSync(dir, { recursive: true });
  const tls = await makeSelfSignedCertificate(dir);
  const secretFile = join(dir, 'proxy-password');
  writeFileSync(secretFile, `${PROXY_SECRET}\n`, { mode: 0o600 });
  const [lmtp, pop3, pop3s, http, imap, imaps] = await freePorts(6);
  const limits = { proxyProtocol: 'none' as const, maxConnections: 1000, maxConnectionsPerClient: 500 };
  const config: StoreConfig = {
    program: 'store',
    common: { hostname: 'store-0.test', httpPort: http!, logLevel: 'info', tls, drainSeconds: 5 },
    listeners: [
      { name: 'lmtp', protocol: 'lmtp', port: lmtp!, tls: 'starttls', ...limits },
      { name: 'pop3', protocol: 'pop3', port: pop3!, tls: 'starttls', ...limits },
      { name: 'pop3s', protocol: 'pop3s', port: pop3s!, tls: 'implicit', ...limits },
      { name: 'imap', protocol: 'imap', port: imap!, tls: 'starttls', ...limits },
      { name: 'imaps', protocol: 'imaps', port: imaps!, tls: 'implicit', ...limits },
    ],
    domains: overrides.domains ?? [DOMAIN],
    dataDir: join(dir, 'data'),
    proxyAuth: { username: PROXY_USER, passwordFile: secretFile },
    maxMessageBytes: overrides.maxMessageBytes ?? 10 * 1024 * 1024,
    quota: overrides.quota ?? {},
  };
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  return launch(config, configFile, dir, tls.certFile);
}

async function launch(
  config: StoreConfig,
  configFile: string,
  dir: string,
  caFile: string,
): Promise<StoreProcess> {
  const logFile = join(dir, 'store.log');
  const offset = existsSync(logFile) ? readFileSync(logFile).length : 0;
  const proc = ManagedProcess.spawn(
    'store',
    process.execPath,
    [MAIN, 'serve', '--config', configFile, '--listen-host', '127.0.0.1'],
    {
      logFile,
    },
  );
  const logs = () =>
    readFileSync(logFile)
      .subarray(offset)
      .toString('utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  await waitFor(
    'the store to start',
    () => {
      if (!proc.running)
        throw new Error(`store exited early:\n${readFileSync(logFile).subarray(offset).toString('utf8')}`);
      return logs().some((l) => l.msg === 'store started');
    },
    { timeoutMs: 20_000 },
  );
  const http = async (path: string) => {
    const response = await fetch(`http://127.0.0.1:${config.common.httpPort}${path}`);
    return { status: response.status, body: await response.text() };
  };
  const port = (name: string) => config.listeners.find((l) => l.name === name)!.port;
  return {
    config,
    dir,
    ports: {
      lmtp: port('lmtp'),
      pop3: port('pop3'),
      pop3s: port('pop3s'),
      imap: port('imap'),
      imaps: port('imaps'),
    },
    httpPort: config.common.httpPort,
    process: proc,
    caFile,
    logs,
    http,
    metric: async (name, labels = {}) => {
      const { body } = await http('/metrics');
      let total = 0;
      for (const line of body.split('\n')) {
        if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
        if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
          total += Number(line.slice(line.lastIndexOf(' ') + 1));
      }
      return total;
    },
    stop: () => proc.stop(15_000),
    kill: async () => {
      proc.signal('SIGKILL');
      await proc.exited;
    },
    restart: () => launch(config, configFile, dir, caFile),
  };
}
