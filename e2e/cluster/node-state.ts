// A running node's record, in STATE_FILE: what it started (by PID and start time) and what it found
// on the machine before it changed anything. Written after every step of a start, so stop.ts and the
// reaper can undo a start that died halfway.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { STATE_FILE } from './plan.ts';

export interface RecordedProcess {
  readonly name: string;
  readonly pid: number;
  /** Clock ticks since boot (/proc/<pid>/stat field 22): a recycled PID has another. */
  readonly startTime: string;
}

export interface NodeState {
  /** The process that started the node (start.ts, a test run's global setup). */
  readonly owner: RecordedProcess;
  /** The node's directory: data, logs, sockets, kubeconfigs. */
  readonly dir: string;
  readonly kubeconfigPath: string;
  /** crictl and its endpoint, to remove pods through the CRI at teardown. */
  readonly crictl: string;
  readonly containerdSocket: string;
  /** Values of KUBELET_SYSCTLS before the kubelet started. */
  readonly sysctls: Readonly<Record<string, string>>;
  readonly netnsMountedBefore: boolean;
  /** Network namespaces under /run/netns before the start (containerd adds one per pod). */
  readonly netnsBefore: readonly string[];
  readonly mountsBefore: readonly string[];
  /** Directories outside `dir` that the daemons create and that did not exist before. */
  readonly createdPaths: readonly string[];
  /** In start order; teardown stops them in reverse. */
  processes: RecordedProcess[];
}

export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses; fields after it are plain.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export function recordProcess(name: string, pid: number): RecordedProcess {
  return { name, pid, startTime: processStartTime(pid) ?? 'gone' };
}

/** Still the same process (not ended, PID not recycled). */
export function isRunning(recorded: RecordedProcess): boolean {
  return processStartTime(recorded.pid) === recorded.startTime;
}

export function writeNodeState(state: NodeState): void {
  mkdirSync(path.dirname(STATE_FILE), { recursive: true, mode: 0o700 });
  const partial = `${STATE_FILE}.partial`;
  writeFileSync(partial, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  renameSync(partial, STATE_FILE);
}

export function readNodeState(): NodeState | undefined {
  if (!existsSync(STATE_FILE)) return undefined;
  return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as NodeState;
}
