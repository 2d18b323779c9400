// Runs the MTA as the real program (`node images/mta/main.ts`) in a child process, with a config
// written to a temp folder, for protocol tests. Being a separate process, it can be killed with
// SIGKILL and started again on the same spool.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { MtaConfig } from '../../lib/contract/mta.ts';
import { freePort } from '../../../testing/support/free-ports.ts';
import { ManagedProcess } from '../../../testing/support/processes.ts';
import { waitFor } from '../../../testing/support/wait.ts';
import { testConfig, type MtaConfigInput } from './test-config.ts';

const MAIN = new URL('../main.ts', import.meta.url).pathname;

export interface MtaProcess {
  config: MtaConfig;
  dir: string;
  port: number;
  /** Port of each listener by name. */
  ports: Record<string, number>;
  httpPort: number;
  process: ManagedProcess;
  /** The JSON log lines so far. */
  logs(): Record<string, unknown>[];
  /** GET on the health server; resolves to status and body. */
  http(path: string): Promise<{ status: number; body: string }>;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  stop(): Promise<void>;
  kill(): Promise<void>;
  /** Starts the program again on the same config and spool. */
  restart(): Promise<MtaProcess>;
}

export interface MtaProcessOptions {
  role: MtaConfig['role'];
  dir: string;
  overrides?: MtaConfigInput;
  /** Secret files to write: name → content. */
  secrets?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
  /** More arguments for `mta serve` (--dns-server, --mx-port). */
  args?: string[];
}

export async function startMtaProcess(options: MtaProcessOptions): Promise<MtaProcess> {
  mkdirSync(options.dir, { recursive: true });
  for (const [name, content] of Object.entries(options.secrets ?? {}))
    writeFileSync(join(options.dir, name), content, { mode: 0o600 });
  const overrides = options.overrides ?? {};
  const listeners = overrides.listeners ?? [
    {
      name: 'smtp',
      protocol: 'smtp' as const,
      port: await freePort(),
      tls: 'starttls' as const,
      proxyProtocol: 'none' as const,
      maxConnections: 1000,
      maxConnectionsPerClient: 50,
    },
  ];
  const config = testConfig(options.role, {
    ...overrides,
    listeners,
    common: { httpPort: await freePort(), drainSeconds: 5, ...overrides.common },
    queue: { dir: join(options.dir, 'spool'), ...overrides.queue },
  });
  const configFile = join(options.dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  return launch(config, configFile, options);
}

/** Runs the MTA on a config as it is (a rendered one, localized: testing/rendered-site.ts). */
export async function startMtaFromConfig(options: {
  config: MtaConfig;
  dir: string;
  secrets?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
  args?: string[];
}): Promise<MtaProcess> {
  mkdirSync(options.dir, { recursive: true });
  for (const [name, content] of Object.entries(options.secrets ?? {}))
    writeFileSync(join(options.dir, name), content, { mode: 0o600 });
  const configFile = join(options.dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(options.config, null, 2));
  return launch(options.config, configFile, { role: options.config.role, ...options });
}

async function launch(
  config: MtaConfig,
  configFile: string,
  options: MtaProcessOptions,
): Promise<MtaProcess> {
  const logFile = join(options.dir, 'mta.log');
  const offset = existsSync(logFile) ? readFileSync(logFile).length : 0;
  const proc = ManagedProcess.spawn(
    'mta',
    process.execPath,
    [MAIN, 'serve', '--config', configFile, '--listen-host', '127.0.0.1', ...(options.args ?? [])],
    {
      logFile,
      env: { ...process.env, ...options.env },
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
    'the MTA to start',
    () => {
      if (!proc.running)
        throw new Error(`mta exited early:\n${readFileSync(logFile).subarray(offset).toString('utf8')}`);
      return logs().some((l) => l.msg === 'mta started');
    },
    20_000,
  );
  const http = async (path: string) => {
    const response = await fetch(`http://127.0.0.1:${config.common.httpPort}${path}`);
    return { status: response.status, body: await response.text() };
  };
  const mta: MtaProcess = {
    config,
    dir: options.dir,
    port: config.listeners[0]!.port,
    ports: Object.fromEntries(config.listeners.map((l) => [l.name, l.port])),
    httpPort: config.common.httpPort,
    process: proc,
    logs,
    http,
    metric: async (name, labels = {}) => {
      const { body } = await http('/metrics');
      let total = 0;
      for (const line of body.split('\n')) {
        if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
        const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
        if (ok) total += Number(line.slice(line.lastIndexOf(' ') + 1));
      }
      return total;
    },
    stop: () => proc.stop(15_000),
    kill: async () => {
      proc.signal('SIGKILL');
      await proc.exited;
    },
    restart: () => launch(config, configFile, options),
  };
  return mta;
}
