// CPU time and resident memory of a system's processes, from /proc. CPU counts utime + stime of
// every live process and cutime + cstime (what its reaped children used): Dovecot forks a process
// per session in its default mode, and those are gone by the time the run ends, but their time is
// in the master's c-times once it has reaped them. CPU seconds survive a loaded machine far better
// than rates do, which is why the benchmark reports them.
import { readFileSync } from 'node:fs';

const TICKS = 100; // USER_HZ on Linux

function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined; // gone meanwhile
  }
}

/**
 * CPU seconds used so far by these processes and their reaped children, in user space and in the
 * kernel (system calls: reads, writes, fsyncs).
 */
export function cpuTimes(pids: readonly number[]): { user: number; system: number } {
  let user = 0;
  let system = 0;
  for (const pid of pids) {
    const f = statFields(pid);
    // Fields 14-17 of stat(5), counted from 3 after the command name: utime stime cutime cstime.
    if (!f) continue;
    user += Number(f[11]) + Number(f[13]);
    system += Number(f[12]) + Number(f[14]);
  }
  return { user: user / TICKS, system: system / TICKS };
}

/** MiB of resident memory, summed over the processes (shared pages count in each, as ps shows). */
export function rssMiB(pids: readonly number[]): number {
  let kib = 0;
  for (const pid of pids) {
    try {
      kib += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return kib / 1024;
}

/** MemAvailable of the machine, MiB: the IDLE run stops opening sessions before it starves others. */
export function availableMiB(): number {
  const info = readFileSync('/proc/meminfo', 'utf8');
  return Number(/MemAvailable:\s+(\d+)/.exec(info)?.[1] ?? 0) / 1024;
}
