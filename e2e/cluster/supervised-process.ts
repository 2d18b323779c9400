// One long-running server process of the test control plane: started with its output in a log
// file, stopped by its own PID (never by name), and able to say why it died.
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface SupervisedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** The exit code (or the signal's name) once the process has ended. */
  readonly exited: Promise<number | string>;
  hasExited(): boolean;
  /** SIGTERM, then SIGKILL if it has not ended within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** For `process.on('exit')`, where nothing asynchronous runs: signal now, do not wait. */
  signalNow(signal: NodeJS.Signals): void;
  /** The last lines of its log, for error messages. */
  logTail(lineCount?: number): string;
}

export function startSupervisedProcess(
  name: string,
  command: string,
  args: readonly string[],
  logPath: string,
): SupervisedProcess {
  const logFd = openSync(logPath, 'a');
  const child = spawn(command, args, { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  if (child.pid === undefined) {
    throw new Error(`could not start ${name} (${command})`);
  }
  const pid = child.pid;
  let ended = false;
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      ended = true;
      resolve(code ?? signal ?? 'unknown');
    });
    child.once('error', (error) => {
      ended = true;
      resolve(`spawn error: ${error.message}`);
    });
  });
  // The test runner must be able to exit even if a teardown is skipped; its 'exit' hook and the
  // orphan reaper end these processes then.
  child.unref();

  // The child is unref'd, so a pending timer is what keeps the event loop alive while we wait for
  // it; the timer is cancelled as soon as the process ends so it holds nothing open afterwards.
  const exitsWithin = async (ms: number): Promise<boolean> => {
    const timer = new AbortController();
    const outcome = await Promise.race([
      exited.then(() => true),
      sleep(ms, false, { signal: timer.signal }).catch(() => true),
    ]);
    timer.abort();
    return outcome;
  };

  const signalNow = (signal: NodeJS.Signals): void => {
    if (ended) return;
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  };

  return {
    name,
    pid,
    logPath,
    exited,
    hasExited: () => ended,
    signalNow,
    async stop(graceMs = 10_000): Promise<void> {
      if (ended) return;
      signalNow('SIGTERM');
      if (await exitsWithin(graceMs)) return;
      signalNow('SIGKILL');
      await exitsWithin(graceMs);
    },
    logTail(lineCount = 30): string {
      try {
        return readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(-lineCount).join('\n');
      } catch {
        return '(no log)';
      }
    },
  };
}
