// Peers the harness starts are its own children (or, for daemons that fork, tracked by the PID they
// write), and are stopped by that PID: never by name, never all at once.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (a client: swaks, curl, python3, ldapadd). Never throws on exit status. */
export function run(
  command: string,
  args: string[],
  options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      command,
      args,
      {
        timeout: options.timeoutMs ?? 30_000,
        env: options.env ?? process.env,
        cwd: options.cwd,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

export class ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly #child: ChildProcess | undefined;
  #exited: Promise<void>;

  private constructor(name: string, pid: number, child: ChildProcess | undefined) {
    this.name = name;
    this.pid = pid;
    this.#child = child;
    this.#exited = child
      ? new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) resolve();
          else child.once('exit', () => resolve());
        })
      : waitForPidExit(pid);
  }

  /** Starts a foreground process whose output goes to `logFile`. */
  static spawn(
    name: string,
    command: string,
    args: string[],
    options: { logFile: string; env?: NodeJS.ProcessEnv; cwd?: string },
  ): ManagedProcess {
    const fd = openSync(options.logFile, 'a');
    try {
      const child = spawn(command, args, {
        stdio: ['ignore', fd, fd],
        env: options.env ?? process.env,
        cwd: options.cwd,
      });
      if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
      return new ManagedProcess(name, child.pid, child);
    } finally {
      closeSync(fd);
    }
  }

  /** Adopts a daemon that forked and wrote its PID to a file. */
  static async fromPidFile(name: string, pidFile: string, timeoutMs = 10_000): Promise<ManagedProcess> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (existsSync(pidFile)) {
        const pid = Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10);
        if (pid > 0 && isAlive(pid)) return new ManagedProcess(name, pid, undefined);
      }
      await sleep(50);
    }
    throw new Error(`${name}: no live PID in ${pidFile} after ${timeoutMs} ms`);
  }

  get running(): boolean {
    return (
      isAlive(this.pid) &&
      (this.#child ? this.#child.exitCode === null && this.#child.signalCode === null : true)
    );
  }

  get exited(): Promise<void> {
    return this.#exited;
  }

  /** SIGTERM, then SIGKILL if it has not gone within `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return;
    this.signal('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const gone = await Promise.race([
      this.#exited.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (!gone) {
      this.signal('SIGKILL');
      await this.#exited;
    }
  }

  /**
   * Freezes the process (SIGSTOP) — a peer that accepts connections but never answers — and waits
   * until every thread is really stopped, so the next request cannot slip through.
   */
  async pause(): Promise<void> {
    this.signal('SIGSTOP');
    await waitFor(
      `${this.name} to stop`,
      () => {
        try {
          return readdirSync(`/proc/${this.pid}/task`).every((t) =>
            /^\d+ \(.*\) [Tt] /.test(readFileSync(`/proc/${this.pid}/task/${t}/stat`, 'utf8')),
          );
        } catch {
          return false;
        }
      },
      5000,
    );
  }

  resume(): void {
    this.signal('SIGCONT');
  }

  signal(signal: NodeJS.Signals): void {
    try {
      process.kill(this.pid, signal);
    } catch {
      // already gone
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitForPidExit(pid: number): Promise<void> {
  while (isAlive(pid)) await sleep(50);
}

/** Resolves once something accepts TCP connections on the port. */
export async function waitForPort(port: number, timeoutMs = 10_000, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ port, host });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Polls until `predicate` holds. */
export async function waitFor(
  what: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}
