// The servers a test harness starts (kube-apiserver, slapd, Postfix, our own programs) are its own
// children (or, for daemons that fork, tracked by the PID they write), with their output in a log
// file, and are stopped by that PID: never by name, never all at once.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { openSync, closeSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { acceptsConnections, waitFor } from './wait.ts';

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

export interface SpawnOptions {
  readonly logFile: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /**
   * Let the test runner exit while this process still runs (a global setup's control plane: its
   * 'exit' hook and the orphan reaper end the process then). Waiting in stop() still works.
   */
  readonly unref?: boolean;
}

export class ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string | undefined;
  readonly #exitStatus: Promise<number | string>;
  #ended = false;

  private constructor(name: string, pid: number, child: ChildProcess | undefined, logFile?: string) {
    this.name = name;
    this.pid = pid;
    this.logFile = logFile;
    this.#exitStatus = (
      child
        ? new Promise<number | string>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) {
              resolve(child.exitCode ?? child.signalCode ?? 'unknown');
              return;
            }
            child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
            child.once('error', (error) => resolve(`spawn error: ${error.message}`));
          })
        : waitForPidExit(pid).then(() => 'unknown')
    ).finally(() => {
      this.#ended = true;
    });
  }

  /** Starts a foreground process whose output goes to `logFile`. */
  static spawn(
    name: string,
    command: string,
    args: readonly string[],
    options: SpawnOptions,
  ): ManagedProcess {
    const fd = openSync(options.logFile, 'a');
    try {
      const child = spawn(command, args, {
        stdio: ['ignore', fd, fd],
        env: options.env ?? process.env,
        cwd: options.cwd,
      });
      if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
      if (options.unref === true) child.unref();
      return new ManagedProcess(name, child.pid, child, options.logFile);
    } finally {
      closeSync(fd);
    }
  }

  /** Adopts a daemon that forked and wrote its PID to a file. */
  static async fromPidFile(name: string, pidFile: string, timeoutMs = 10_000): Promise<ManagedProcess> {
    const pid = await waitFor(
      `${name} to write a live PID to ${pidFile}`,
      () => {
        if (!existsSync(pidFile)) return false;
        const candidate = Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10);
        return candidate > 0 && isAlive(candidate) ? candidate : false;
      },
      timeoutMs,
    );
    return new ManagedProcess(name, pid, undefined);
  }

  get running(): boolean {
    return !this.#ended && isAlive(this.pid);
  }

  hasExited(): boolean {
    return this.#ended;
  }

  get exited(): Promise<void> {
    return this.#exitStatus.then(() => undefined);
  }

  /** The exit code, or the signal's name, once the process has ended. */
  get exitStatus(): Promise<number | string> {
    return this.#exitStatus;
  }

  /**
   * SIGTERM, then SIGKILL if it has not gone within `graceMs`. Throws if even SIGKILL did not end
   * it: a test run must not go on (and hang at its end) with a server it believes stopped.
   */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return;
    this.signal('SIGTERM');
    if (await this.#exitsWithin(graceMs)) return;
    this.signal('SIGKILL');
    if (await this.#exitsWithin(graceMs)) return;
    if (isAlive(this.pid))
      throw new Error(`${this.name} (pid ${this.pid}) still runs ${graceMs} ms after SIGKILL`);
  }

  /**
   * Waits until this server, just started, accepts connections on host:port. If it exits first or
   * never listens, it is stopped before the error is thrown (with its log's tail): a start that
   * fails leaves no process behind for the test's `after` to miss.
   */
  async whenListening(port: number, host = '127.0.0.1', timeoutMs = 20_000): Promise<void> {
    try {
      await waitFor(`${this.name} to listen on ${host}:${port}`, () => acceptsConnections(port, host), {
        timeoutMs,
        abortIf: () => (this.hasExited() ? `${this.name} exited` : undefined),
      });
    } catch (error) {
      await this.stop().catch(() => {});
      throw new Error(`${(error as Error).message}\n${this.logTail()}`, { cause: error });
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
      () =>
        readdirSync(`/proc/${this.pid}/task`).every((t) =>
          /^\d+ \(.*\) [Tt] /.test(readFileSync(`/proc/${this.pid}/task/${t}/stat`, 'utf8')),
        ),
      5000,
    );
  }

  resume(): void {
    this.signal('SIGCONT');
  }

  /** Sends a signal now and does not wait (also safe in `process.on('exit')`). */
  signal(signal: NodeJS.Signals): void {
    if (this.#ended) return;
    try {
      process.kill(this.pid, signal);
    } catch {
      // already gone
    }
  }

  /** The last lines of its log, for error messages. */
  logTail(lineCount = 30): string {
    if (this.logFile === undefined) return '(no log)';
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lineCount).join('\n');
    } catch {
      return '(no log)';
    }
  }

  // An unref'd child keeps nothing alive, so the timer is what holds the event loop while we wait;
  // it is cancelled as soon as the process ends.
  async #exitsWithin(ms: number): Promise<boolean> {
    const timer = new AbortController();
    const outcome = await Promise.race([
      this.#exitStatus.then(() => true),
      sleep(ms, false, { signal: timer.signal }).catch(() => true),
    ]);
    timer.abort();
    return outcome;
  }
}

/**
 * Starts several servers at once, as `Promise.all` would; if any start fails, the ones that did
 * start are stopped before the first failure is thrown, so nothing outlives a failed `before`.
 */
export async function startTogether<const T extends readonly unknown[]>(starting: {
  readonly [K in keyof T]: Promise<T[K]>;
}): Promise<T> {
  const settled = await Promise.allSettled(starting);
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure === undefined)
    return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T;
  await Promise.allSettled(
    settled.flatMap((s) => (s.status === 'fulfilled' && isStoppable(s.value) ? [s.value.stop()] : [])),
  );
  throw failure.reason;
}

function isStoppable(value: unknown): value is { stop(): Promise<unknown> } {
  return (
    typeof value === 'object' && value !== null && typeof (value as { stop?: unknown }).stop === 'function'
  );
}

/** Whether a process with this PID exists (signal 0 checks without sending). */
export function isAlive(pid: number): boolean {
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

/**
 * For a harness started by hand (start.ts): resolves on Ctrl-C or SIGTERM. Its servers' handles
 * are unref'd, so a timer keeps the process (and so the servers) alive until then.
 */
export async function untilInterrupted(): Promise<void> {
  const keepAlive = setInterval(() => {}, 1 << 30);
  await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
  clearInterval(keepAlive);
}

/**
 * For a benchmark: on Ctrl-C or SIGTERM, `cleanUp` (stop what it started, by PID; remove its
 * folder), then exit 130, so that no server outlives an interrupted run.
 */
export function cleanUpOnInterrupt(cleanUp: () => Promise<void>): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => void cleanUp().finally(() => process.exit(130)));
}

/** Runs a command on this terminal (stdio inherited) and resolves with its exit code (128 if signalled). */
export function runInForeground(
  program: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(program, args, { env, stdio: 'inherit' });
    child.once('error', () => resolve(127));
    child.once('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
  });
}
