// How much memory the running node holds: the resident set of every process it started (the
// control plane, the node's daemons) and of everything in its cgroups (shims, containers). Shared
// pages count once per process, so this is an upper bound, as `ps` would add it up.
import { readFileSync } from 'node:fs';
import { nodeCgroupPids } from './machine.ts';
import { isRunning, type NodeState } from './node-state.ts';

function residentBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export function nodeResidentMemory(state: NodeState): { bytes: number; processes: number } {
  const pids = new Set([...state.processes.filter(isRunning).map((p) => p.pid), ...nodeCgroupPids()]);
  let bytes = 0;
  for (const pid of pids) bytes += residentBytes(pid);
  return { bytes, processes: pids.size };
}
