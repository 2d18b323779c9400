// Runs the MMP as the real program (`node images/mmp/main.ts`) in a child process, for protocol tests.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MmpConfig } from '../../lib/contract/mmp.ts';
import { ManagedProcess, run } from '../../../testing/support/processes.ts';
import { waitFor, waitForPort } from '../../../testing/support/wait.ts';

const MAIN = new URL('../main.ts', import.meta.url).pathname;
const END_SESSIONS = new URL('../end-sessions.ts', import.meta.url).pathname;

export interface MmpProcess {
  config: MmpConfig;
  /** Port of each listener by name (imap, imaps, pop3, pop3s). */
  ports: Record<string, number>;
  process: ManagedProcess;
  logs(): Record<string, unknown>[];
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  endSessions(user: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startMmpProcess(
  config: MmpConfig,
  dir: string,
  failureFloorMs?: number,
  options: {
    /** Node's own flags (a benchmark's --cpu-prof). */
    nodeArgs?: readonly string[];
    /** Added to the environment (the Deployment's env, for a benchmark). */
    env?: Record<string, string>;
    /** Time from connect to login, shortened for a slow client's test. */
    preLoginTimeoutMs?: number;
    /** Another entry point: the compiled main.js a benchmark runs, as the image does. */
    main?: string;
    /** Collect memory after this quiet time, however little it grew (images/lib/idle-collector.ts). */
    collectWhenQuietMs?: number;
  } = {},
): Promise<MmpProcess> {
  const configFile = join(dir, 'mmp-config.json');
  const logFile = join(dir, 'mmp.log');
  const adminSocket = join(dir, 'admin.sock');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const proc = ManagedProcess.spawn(
    'mmp',
    process.execPath,
    [
      ...(options.nodeArgs ?? []),
      options.main ?? MAIN,
      '--config',
      configFile,
      '--listen-host',
      '127.0.0.1',
      '--admin-socket',
      adminSocket,
      ...(failureFloorMs !== undefined ? ['--failure-floor-ms', String(failureFloorMs)] : []),
      ...(options.preLoginTimeoutMs !== undefined
        ? ['--pre-login-timeout-ms', String(options.preLoginTimeoutMs)]
        : []),
      ...(options.collectWhenQuietMs !== undefined
        ? ['--collect-when-quiet-ms', String(options.collectWhenQuietMs)]
        : []),
    ],
    { logFile, env: { ...process.env, ...options.env } },
  );
  const ports = Object.fromEntries(config.listeners.map((l) => [l.name, l.port]));
  try {
    // Generous: on a loaded machine loading the program alone (type stripping included) took over 15 s.
    for (const port of Object.values(ports)) await waitForPort(port, 90_000);
  } catch (error) {
    throw new Error(`the MMP did not start: ${(error as Error).message}\n${proc.logTail()}`, {
      cause: error,
    });
  }
  const logs = () =>
    readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    config,
    ports,
    process: proc,
    logs,
    metric: async (name, labels = {}) => {
      const response = await fetch(`http://127.0.0.1:${config.common.httpPort}/metrics`);
      const text = await response.text();
      let total = 0;
      for (const line of text.split('\n')) {
        if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
        if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
          total += Number(line.split(' ').pop());
      }
      return total;
    },
    endSessions: async (user) => {
      const result = await run(process.execPath, [END_SESSIONS, user, '--socket', adminSocket]);
      if (result.code !== 0) throw new Error(`end-sessions failed: ${result.stderr}`);
      return result.stdout.trim();
    },
    stop: async () => {
      await proc.stop(10_000);
      await waitFor('the MMP to exit', () => !proc.running, 10_000);
    },
  };
}
