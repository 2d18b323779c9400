// Resident memory and CPU time of a process and its descendants (nginx's workers), from /proc.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

function children(pid: number): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) found.push(Number(name));
    } catch {
      // gone
    }
  }
  return found;
}

/** MiB of RSS of `pid` and every descendant. */
export function treeRssMiB(pid: number): number {
  let total = 0;
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.pop()!;
    try {
      total += rssKiB(p);
    } catch {
      continue;
    }
    queue.push(...children(p));
  }
  return total / 1024;
}

/**
 * CPU seconds (user + system) used so far by `pid` and every descendant, the ones that have exited
 * included (each process's cutime + cstime holds its reaped children's).
 */
export function treeCpuSeconds(pid: number): number {
  const { user, system } = treeCpuTimes(pid);
  return user + system;
}

/**
 * The same split into user space and the kernel: a proxy in Node spends its CPU in user space, one
 * in C in the kernel's socket calls, so the split says what a faster proxy could still save.
 */
export function treeCpuTimes(pid: number): { user: number; system: number } {
  let user = 0;
  let system = 0;
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.pop()!;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime, stime, and the reaped children's cutime, cstime (Dovecot's forks that have exited).
      user += Number(fields[11]) + Number(fields[13]);
      system += Number(fields[12]) + Number(fields[14]);
    } catch {
      continue;
    }
    queue.push(...children(p));
  }
  return { user: user / 100, system: system / 100 };
}

/**
 * Pins `pid`, its threads and its descendants to the CPUs in `cpus` (taskset's list, "0" or
 * "0,1"); the processes they start later inherit it.
 */
export function pinTree(pid: number, cpus: string): void {
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.pop()!;
    try {
      execFileSync('taskset', ['--all-tasks', '--cpu-list', '--pid', cpus, String(p)], { stdio: 'ignore' });
    } catch {
      continue; // gone
    }
    queue.push(...children(p));
  }
}

/** The soft limit on open files of a running process (`Max open files` in /proc/PID/limits). */
export function openFileLimit(pid: number): number {
  const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
  return Number(/^Max open files\s+(\d+)/m.exec(limits)?.[1] ?? Infinity);
}

/**
 * Where a process's resident memory is, MiB, from /proc/PID/smaps: pages of its executable (file
 * pages, clean, shared with any other process running it), of other files (shared libraries), the
 * brk heap (glibc's main malloc arena) and other anonymous mappings (V8's heap pages, the other
 * malloc arenas, thread stacks, large mallocs).
 */
export function treeMemoryMap(pid: number): {
  rss: number;
  executable: number;
  otherFiles: number;
  brkHeap: number;
  otherAnonymous: number;
} {
  const out = { rss: 0, executable: 0, otherFiles: 0, brkHeap: 0, otherAnonymous: 0 };
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.pop()!;
    try {
      addMappings(p, out);
    } catch {
      continue;
    }
    queue.push(...children(p));
  }
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    rss: round(out.rss),
    executable: round(out.executable),
    otherFiles: round(out.otherFiles),
    brkHeap: round(out.brkHeap),
    otherAnonymous: round(out.otherAnonymous),
  };
}

function addMappings(
  pid: number,
  out: { rss: number; executable: number; otherFiles: number; brkHeap: number; otherAnonymous: number },
): void {
  const exe = readlinkOr(`/proc/${pid}/exe`);
  let name = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const mapping = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (mapping) {
      name = mapping[1]!;
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (!rss) continue;
    const mib = Number(rss[1]) / 1024;
    out.rss += mib;
    if (name === exe) out.executable += mib;
    else if (name === '[heap]') out.brkHeap += mib;
    else if (name.startsWith('/')) out.otherFiles += mib;
    else out.otherAnonymous += mib;
  }
}

function readlinkOr(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}
