// The machine's CPU while a benchmark phase ran, from /proc/stat's aggregate line: how much of it
// the hypervisor gave to someone else (steal: this machine is a VM, and a phase that ran at half
// speed with nothing else of ours running was stolen from; the load average does not count it),
// how much was busy (every process, and the kernel's softirq work that no process is charged for:
// loopback TCP's receive side), and how much was idle (a path that leaves cores idle is bound by
// something other than the CPU, such as one thread).
import { readFileSync } from 'node:fs';

interface CpuTicks {
  /** user, nice, system, irq, softirq. */
  busy: number;
  /** idle and iowait. */
  idle: number;
  steal: number;
  total: number;
}

/** Linux reports /proc/stat in USER_HZ ticks, 100 a second on every architecture it runs on. */
const TICKS_PER_SECOND = 100;

/** Splits /proc/stat's aggregate `cpu` line: user nice system idle iowait irq softirq steal … */
export function parseCpuTicks(procStat: string): CpuTicks {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('no aggregate cpu line in /proc/stat');
  // guest and guest_nice (the 9th and 10th) are already counted in user and nice.
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map(Number);
  return {
    busy: user + nice + system + irq + softirq,
    idle: idle + iowait,
    steal,
    total: user + nice + system + idle + iowait + irq + softirq + steal,
  };
}

export interface MachineCpu {
  /** Percentages of the machine's time since the meter started, one decimal. */
  stealPercent: number;
  idlePercent: number;
  /** CPU seconds the machine was busy, all cores together, two decimals. */
  busySeconds: number;
}

/** Starts measuring; the function returned gives the machine's CPU since. */
export function machineMeter(read = () => readFileSync('/proc/stat', 'utf8')): () => MachineCpu {
  const before = parseCpuTicks(read());
  return () => {
    const after = parseCpuTicks(read());
    const total = after.total - before.total;
    const percent = (ticks: number) => (total > 0 ? Math.round((1000 * ticks) / total) / 10 : 0);
    return {
      stealPercent: percent(after.steal - before.steal),
      idlePercent: percent(after.idle - before.idle),
      busySeconds: Math.round((100 * (after.busy - before.busy)) / TICKS_PER_SECOND) / 100,
    };
  };
}

/** Starts measuring; the function returned gives the percentage stolen since, one decimal. */
export function stealMeter(read?: () => string): () => number {
  const machine = machineMeter(read);
  return () => machine().stealPercent;
}
