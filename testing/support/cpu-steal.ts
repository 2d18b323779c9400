// How much of the machine's CPU time the hypervisor gave to someone else (the `steal` column of
// /proc/stat) while a benchmark phase ran. This machine is a VM: a phase that ran at half speed
// with nothing else of ours running was stolen from, and its figures say so beside the load
// average, which does not count steal.
import { readFileSync } from 'node:fs';

interface CpuTicks {
  steal: number;
  total: number;
}

/** Splits /proc/stat's aggregate `cpu` line: user nice system idle iowait irq softirq steal … */
export function parseCpuTicks(procStat: string): CpuTicks {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('no aggregate cpu line in /proc/stat');
  // guest and guest_nice (the 9th and 10th) are already counted in user and nice.
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
  return { steal: fields[7] ?? 0, total: fields.reduce((sum, n) => sum + n, 0) };
}

/** Starts measuring; the function returned gives the percentage stolen since, one decimal. */
export function stealMeter(read = () => readFileSync('/proc/stat', 'utf8')): () => number {
  const before = parseCpuTicks(read());
  return () => {
    const after = parseCpuTicks(read());
    const total = after.total - before.total;
    return total > 0 ? Math.round((1000 * (after.steal - before.steal)) / total) / 10 : 0;
  };
}
