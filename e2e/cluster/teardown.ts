// Takes a node down and puts the machine back as it was, from its state record alone (so stop(),
// stop.ts and the reaper share it): the kubelet first (it would restart pods), the pods through the
// CRI (their network teardown runs the CNI DEL), the daemons by PID, then whatever is still in the
// node's cgroups, mounts, cgroups, the network namespace, the kernel settings, the directory.
import { existsSync, rmSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../../testing/support/processes.ts';
import {
  deleteNodeNetwork,
  netnsNames,
  nodeCgroupPids,
  removeNodeCgroups,
  restoreSysctls,
  unmountNodeMounts,
} from './machine.ts';
import { isRunning, type NodeState, type RecordedProcess } from './node-state.ts';
import { STATE_FILE } from './plan.ts';

export interface TeardownReport {
  readonly seconds: number;
  /** What could not be undone (empty when the machine is back as it was). */
  readonly problems: string[];
  readonly restoredSysctls: string[];
}

async function stopProcess(process_: RecordedProcess, graceMs: number): Promise<void> {
  const signal = (name: NodeJS.Signals): void => {
    if (!isRunning(process_)) return;
    try {
      process.kill(process_.pid, name);
    } catch {
      // Ended between the check and the signal.
    }
  };
  signal('SIGTERM');
  for (const deadline = Date.now() + graceMs; Date.now() < deadline && isRunning(process_);) await sleep(100);
  signal('SIGKILL');
  for (const deadline = Date.now() + 5000; Date.now() < deadline && isRunning(process_);) await sleep(50);
}

/** The node's processes that are in the node network namespace, in the order they must stop. */
const FIRST_TO_STOP = ['kubelet', 'kube-proxy', 'kube-router'];

export async function tearDownNode(
  state: NodeState,
  log: (line: string) => void = () => {},
): Promise<TeardownReport> {
  const startedAt = performance.now();
  const problems: string[] = [];
  const byName = (name: string): RecordedProcess | undefined => state.processes.find((p) => p.name === name);

  // The reaper would start a second teardown once the owner is gone: it goes first (unless this is it).
  const reaper = byName('reaper');
  if (reaper !== undefined && reaper.pid !== process.pid) await stopProcess(reaper, 2000);

  for (const name of FIRST_TO_STOP) {
    const daemon = byName(name);
    if (daemon !== undefined) await stopProcess(daemon, 10_000);
  }

  const containerd = byName('containerd');
  if (containerd !== undefined && isRunning(containerd) && existsSync(state.crictl)) {
    log('removing the pods through the CRI');
    const endpoint = ['--runtime-endpoint', `unix://${state.containerdSocket}`, '--timeout', '60s'];
    const removed = await run(state.crictl, [...endpoint, 'rmp', '--force', '--all'], { timeoutMs: 180_000 });
    if (removed.code !== 0) problems.push(`crictl rmp --force --all: ${removed.stderr.trim()}`);
  }

  for (const daemon of [...state.processes].reverse())
    if (!FIRST_TO_STOP.includes(daemon.name) && daemon.name !== 'reaper') await stopProcess(daemon, 10_000);

  // Whatever outlived the CRI (a shim whose containerd was killed first, a container of a pod the
  // CRI lost track of): only processes in the node's own cgroups.
  for (let round = 0; round < 50; round++) {
    const pids = nodeCgroupPids();
    if (pids.length === 0) break;
    if (round === 0) log(`ending ${pids.length} process(es) left in the node's cgroups`);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    await sleep(100);
  }
  const stillThere = nodeCgroupPids();
  if (stillThere.length > 0) problems.push(`processes still in the node's cgroups: ${stillThere.join(' ')}`);

  const busyMounts = await unmountNodeMounts(state.dir, state.mountsBefore);
  if (busyMounts.length > 0) problems.push(`mounts that would not go: ${busyMounts.join(' ')}`);
  // A cgroup whose last process just died can refuse rmdir (EBUSY) for a moment.
  let leftCgroups = removeNodeCgroups();
  for (let round = 0; round < 50 && leftCgroups.length > 0; round++) {
    await sleep(100);
    leftCgroups = removeNodeCgroups();
  }
  if (leftCgroups.length > 0) problems.push(`cgroups that would not go: ${leftCgroups.join(' ')}`);

  // containerd pins a pod's namespace in a file under /run/netns; unmounted above, the file stays.
  for (const name of netnsNames())
    if (name.startsWith('cni-') && !state.netnsBefore.includes(name))
      rmSync(path.join('/run/netns', name), { force: true });
  for (const created of state.createdPaths) rmSync(created, { recursive: true, force: true });

  try {
    await deleteNodeNetwork(state.netnsMountedBefore);
  } catch (error) {
    problems.push(`network namespace: ${(error as Error).message}`);
  }

  const restoredSysctls = restoreSysctls(state.sysctls);
  if (problems.length === 0 && !process.env.MTOPO_KEEP_NODE_DIR)
    rmSync(state.dir, { recursive: true, force: true, maxRetries: 5 });
  if (problems.length === 0) {
    rmSync(STATE_FILE, { force: true });
    try {
      rmdirSync(path.dirname(STATE_FILE));
    } catch {
      // Not empty or gone.
    }
  }
  for (const problem of problems) log(`teardown: ${problem}`);
  return { seconds: (performance.now() - startedAt) / 1000, problems, restoredSysctls };
}
