// Runs one of our programs (`node images/<program>/main.ts serve --config …`) as a child process for
// protocol tests: the real program, so that it can be killed with SIGKILL and started again on the
// same config and data. Each program's helper (images/mta/testing/mta-process.ts,
// images/store/testing/store-process.ts) writes the config and adds its own fields on top.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess } from './processes.ts';
import { waitFor } from './wait.ts';

/**
 * Node loading a program's TypeScript takes about a second on a quiet machine and was seen taking
 * 11.5 s at load 30 (`node images/mta/main.ts --help`); a start that takes longer than this is stuck.
 */
const START_TIMEOUT_MS = 60_000;

export interface ProgramLaunch {
  /** The program's name: its log is `<dir>/<name>.log`, its start line `<name> started`. */
  name: string;
  main: string;
  configFile: string;
  dir: string;
  httpPort: number;
  args?: readonly string[];
  env?: NodeJS.ProcessEnv;
}

export interface ProgramProcess {
  readonly dir: string;
  readonly httpPort: number;
  readonly process: ManagedProcess;
  /** The JSON log lines of this run (not of earlier runs on the same log file). */
  logs(): Record<string, unknown>[];
  /** GET on the health server; resolves to status and body. */
  http(path: string): Promise<{ status: number; body: string }>;
  /** The sum of a Prometheus metric's series whose labels include `labels`. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

export async function startProgramProcess(launch: ProgramLaunch): Promise<ProgramProcess> {
  const logFile = join(launch.dir, `${launch.name}.log`);
  const offset = existsSync(logFile) ? readFileSync(logFile).length : 0;
  const ownLog = () => readFileSync(logFile).subarray(offset).toString('utf8');
  const proc = ManagedProcess.spawn(
    launch.name,
    process.execPath,
    [
      launch.main,
      'serve',
      '--config',
      launch.configFile,
      '--listen-host',
      '127.0.0.1',
      ...(launch.args ?? []),
    ],
    { logFile, env: { ...process.env, ...launch.env } },
  );
  const logs = () =>
    ownLog()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  try {
    await waitFor(
      `${launch.name} to start`,
      () => {
        if (!proc.running) throw new Error(`${launch.name} exited early:\n${ownLog()}`);
        return logs().some((l) => l.msg === `${launch.name} started`);
      },
      { timeoutMs: START_TIMEOUT_MS },
    );
  } catch (error) {
    // A program left running would hold its ports, and the next start on them would fail for a
    // reason that has nothing to do with it.
    proc.signal('SIGKILL');
    await proc.exited;
    throw error;
  }
  const http = async (path: string) => {
    const response = await fetch(`http://127.0.0.1:${launch.httpPort}${path}`);
    return { status: response.status, body: await response.text() };
  };
  return {
    dir: launch.dir,
    httpPort: launch.httpPort,
    process: proc,
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
  };
}

/**
 * Starts a program's main file on a config it must refuse: it exits 1 before it listens, says
 * nothing on stdout, and its message names the file and the field (`PROGRAM: FILE is invalid:`).
 */
export function assertRefusesConfig(main: string, program: string, configPath: string, field: string): void {
  const started = spawnSync(process.execPath, [main, '--config', configPath, '--listen-host', '127.0.0.1'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(started.status, 1, started.stderr);
  assert.equal(started.stdout, '');
  const escaped = `${program}: ${configPath} is invalid:`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  assert.match(started.stderr, new RegExp(`^${escaped}\\n {2}${field}: `));
}
