// Ends the test control plane's servers if the process that started them dies without stopping
// them (SIGKILL, a crash, a killed CI step), so no etcd or kube-apiserver outlives a test run.
// Runs as its own detached process: `node orphan-reaper.ts <json>`, see startOrphanReaper().
// It kills only the PIDs it was given, and only while each PID still belongs to the same process
// (same start time), so a recycled PID is never hit.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

interface ReaperOrders {
  readonly watchedPid: number;
  readonly pids: readonly number[];
  /** Removed once the processes are gone, if given. */
  readonly dir?: string;
}

/** The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), or undefined. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses; fields after it are plain.
    const fieldsAfterName = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fieldsAfterName[19];
  } catch {
    return undefined;
  }
}

/** Starts the reaper; returns its PID so a normal shutdown can end it first. */
export function startOrphanReaper(orders: ReaperOrders): number {
  const reaper = spawn(process.execPath, [fileURLToPath(import.meta.url), JSON.stringify(orders)], {
    detached: true,
    stdio: 'ignore',
  });
  reaper.unref();
  if (reaper.pid === undefined) throw new Error('could not start the orphan reaper');
  return reaper.pid;
}

async function reap(orders: ReaperOrders): Promise<void> {
  const startTimes = new Map(orders.pids.map((pid) => [pid, processStartTime(pid)]));
  const watchedStartTime = processStartTime(orders.watchedPid);
  const stillSame = (pid: number, startTime: string | undefined): boolean =>
    startTime !== undefined && processStartTime(pid) === startTime;

  while (stillSame(orders.watchedPid, watchedStartTime)) {
    await sleep(1000);
  }
  const signalAll = (signal: NodeJS.Signals): void => {
    for (const [pid, startTime] of startTimes) {
      if (!stillSame(pid, startTime)) continue;
      try {
        process.kill(pid, signal);
      } catch {
        // Ended between the check and the signal.
      }
    }
  };
  signalAll('SIGTERM');
  for (let waited = 0; waited < 10 && [...startTimes].some(([pid, time]) => stillSame(pid, time)); waited++) {
    await sleep(1000);
  }
  signalAll('SIGKILL');
  if (orders.dir !== undefined) rmSync(orders.dir, { recursive: true, force: true, maxRetries: 5 });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await reap(JSON.parse(process.argv[2] ?? '{}') as ReaperOrders);
}
