// Runs the MTA as the real program (`node images/mta/main.ts`) in a child process, with a config
// written to a temp folder, for protocol tests. Being a separate process, it can be killed with
// SIGKILL and started again on the same spool.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MtaConfig } from '../../lib/contract/mta.ts';
import { freePort } from '../../../testing/support/free-ports.ts';
import { startProgramProcess, type ProgramProcess } from '../../../testing/support/program-process.ts';
import { testConfig, type MtaConfigInput } from './test-config.ts';

const MAIN = new URL('../main.ts', import.meta.url).pathname;

export interface MtaProcess extends ProgramProcess {
  config: MtaConfig;
  port: number;
  /** Port of each listener by name. */
  ports: Record<string, number>;
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
  const program = await startProgramProcess({
    name: 'mta',
    main: MAIN,
    configFile,
    dir: options.dir,
    httpPort: config.common.httpPort,
    ...(options.args ? { args: options.args } : {}),
    ...(options.env ? { env: options.env } : {}),
  });
  return {
    ...program,
    config,
    port: config.listeners[0]!.port,
    ports: Object.fromEntries(config.listeners.map((l) => [l.name, l.port])),
    restart: () => launch(config, configFile, options),
  };
}
