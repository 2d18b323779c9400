// What the node changes on the machine outside its own directory, each with the way back: kernel
// settings, the network namespace and its veth pair, cgroups, mounts. Every undo is idempotent and
// judges by what is there now, so teardown can run after a crash halfway through a start (from the
// reaper) and run twice without harm.
import { OUTSIDE } from '../outside/outside-network.ts';
import {
  existsSync,
  readFileSync,
  readdirSync,
  rmdirSync,
  statSync,
  writeFileSync,
  mkdirSync,
} from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../../testing/support/processes.ts';
import {
  CGROUP_ROOT,
  HOST_ADDRESS,
  HOST_VETH,
  NETNS,
  NETNS_PATH,
  NODE_ADDRESS,
  NODE_VETH,
  POD_CIDR,
  SERVICE_CIDR,
  VETH_PREFIX_LENGTH,
} from './plan.ts';

async function must(command: string, args: string[], timeoutMs = 30_000): Promise<string> {
  const result = await run(command, args, { timeoutMs });
  if (result.code !== 0)
    throw new Error(`${command} ${args.join(' ')} exited with ${result.code}: ${result.stderr.trim()}`);
  return result.stdout;
}

/** Runs a command inside the node's network namespace (nsenter, not `ip netns exec`: see nodeCommand). */
export function inNodeNetwork(command: string, args: string[], timeoutMs?: number): Promise<string> {
  return must('nsenter', [`--net=${NETNS_PATH}`, '--', command, ...args], timeoutMs);
}

/**
 * The argv that runs a node daemon in the node's network namespace. nsenter execs the program, so
 * the PID we get is the daemon's own. `ip netns exec` would remount /sys, hiding the cgroup mounts
 * from the kubelet.
 */
export function nodeCommand(binary: string, args: readonly string[]): [string, string[]] {
  return ['nsenter', [`--net=${NETNS_PATH}`, '--', binary, ...args]];
}

// --- kernel settings ---

export function readSysctls(names: readonly string[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of names) values[name] = readFileSync(`/proc/sys/${name}`, 'utf8').trim();
  return values;
}

/** Writes back the recorded values that differ now; returns the names it restored. */
export function restoreSysctls(recorded: Readonly<Record<string, string>>): string[] {
  const restored: string[] = [];
  for (const [name, value] of Object.entries(recorded)) {
    const file = `/proc/sys/${name}`;
    if (readFileSync(file, 'utf8').trim() === value) continue;
    writeFileSync(file, value);
    restored.push(name);
  }
  return restored;
}

// --- network namespace ---

export function netnsNames(): string[] {
  try {
    return readdirSync('/run/netns');
  } catch {
    return [];
  }
}

export function isMountPoint(target: string): boolean {
  return mountPoints().includes(target);
}

/** Mount points in mount order (the fifth field of mountinfo, octal escapes decoded). */
export function mountPoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) =>
      (line.split(' ')[4] ?? '').replace(/\\(\d{3})/g, (_, octal: string) =>
        String.fromCharCode(parseInt(octal, 8)),
      ),
    );
}

/** Refuses to start over a machine that already uses the node's names or address ranges. */
export async function checkNetworkIsFree(): Promise<void> {
  if (existsSync(NETNS_PATH))
    throw new Error(`network namespace ${NETNS} exists already: is a node running? (node e2e/stop.ts)`);
  const links = await must('ip', ['-o', 'link', 'show']);
  if (links.includes(`${HOST_VETH}@`) || links.includes(` ${HOST_VETH}:`))
    throw new Error(`a link named ${HOST_VETH} exists already: is a node running? (node e2e/stop.ts)`);
  const routes = await must('ip', ['-4', 'route', 'show']);
  for (const prefix of ['10.250.0.', '10.251.0.', '10.252.0.'])
    if (routes.split('\n').some((line) => line.startsWith(prefix)))
      throw new Error(
        `the host already routes ${prefix}0/24, which the node needs (e2e/cluster/plan.ts):\n${routes}`,
      );
}

/** The namespace, the veth pair, the addresses and routes of plan.ts. */
export async function createNodeNetwork(): Promise<void> {
  await must('ip', ['netns', 'add', NETNS]);
  await must('ip', ['link', 'add', HOST_VETH, 'type', 'veth', 'peer', 'name', NODE_VETH, 'netns', NETNS]);
  await must('ip', ['addr', 'add', `${HOST_ADDRESS}/${VETH_PREFIX_LENGTH}`, 'dev', HOST_VETH]);
  await must('ip', ['link', 'set', HOST_VETH, 'up']);
  await must('ip', ['-n', NETNS, 'addr', 'add', `${NODE_ADDRESS}/${VETH_PREFIX_LENGTH}`, 'dev', NODE_VETH]);
  await must('ip', ['-n', NETNS, 'link', 'set', NODE_VETH, 'up']);
  await must('ip', ['-n', NETNS, 'link', 'set', 'lo', 'up']);
  // Connections from node processes to a ClusterIP need a route before kube-proxy's DNAT applies.
  await must('ip', ['-n', NETNS, 'route', 'add', SERVICE_CIDR, 'via', HOST_ADDRESS]);
  // The host reaches pods and LoadBalancer addresses through the node, as a cloud's network would;
  // the API server answers pods that reach it through the kubernetes Service this way.
  await must('ip', ['route', 'add', POD_CIDR, 'via', NODE_ADDRESS, 'dev', HOST_VETH]);
  // Per-namespace settings: forwarding between the veth and the bridge, and netfilter on bridged
  // traffic (the NetworkPolicy enforcer sees pod-to-pod packets only with it).
  await inNodeNetwork('sysctl', [
    '-q',
    '-w',
    'net.ipv4.ip_forward=1',
    'net.bridge.bridge-nf-call-iptables=1',
  ]);
}

/**
 * Deletes the namespace (with it the veth pair, the host route, every iptables rule and ipset made
 * in it), and unmounts /run/netns once no namespace is left if this run's `ip netns add` mounted it.
 */
export async function deleteNodeNetwork(netnsMountedBefore: boolean): Promise<void> {
  // The tests' outside world hangs off the node (e2e/outside): it goes first, even after a kill.
  if (existsSync(`/run/netns/${OUTSIDE.netns}`)) await must('ip', ['netns', 'delete', OUTSIDE.netns]);
  if (existsSync(NETNS_PATH)) await must('ip', ['netns', 'delete', NETNS]);
  // A veth whose namespace was already gone by other means.
  const links = await must('ip', ['-o', 'link', 'show']);
  if (links.includes(`${HOST_VETH}@`)) {
    const deleted = await run('ip', ['link', 'delete', HOST_VETH]);
    // The kernel removes the pair itself once the deleted namespace's last reference goes, so it
    // may vanish between the listing and the delete (CI saw "Cannot find device"): gone is done.
    if (deleted.code !== 0 && (await must('ip', ['-o', 'link', 'show'])).includes(`${HOST_VETH}@`))
      throw new Error(`ip link delete ${HOST_VETH}: ${deleted.stderr.trim()}`);
  }
  if (!netnsMountedBefore && netnsNames().length === 0 && isMountPoint('/run/netns')) {
    // Busy for a moment while the namespace's last users (a pod's exiting processes) go.
    for (let attempt = 1; ; attempt++) {
      const result = await run('umount', ['/run/netns']);
      if (result.code === 0 || !isMountPoint('/run/netns')) break;
      if (attempt === 50) throw new Error(`umount /run/netns: ${result.stderr.trim()}`);
      await sleep(100);
    }
  }
}

// --- cgroups ---

/** Mount points of the cgroup v1 hierarchies (cpu, memory, pids, name=systemd, …) and the v2 one. */
export function cgroupHierarchies(): { v1: string[]; all: string[] } {
  const v1: string[] = [];
  const all: string[] = [];
  for (const line of readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
    const [, mountPoint, type] = line.split(' ');
    if (mountPoint === undefined) continue;
    if (type === 'cgroup') v1.push(mountPoint);
    if (type === 'cgroup' || type === 'cgroup2') all.push(mountPoint);
  }
  return { v1, all };
}

/**
 * Makes a cgroup in every v1 hierarchy (the kubelet's cgroupRoot must exist in each). A new cpuset
 * cgroup starts with no CPUs and no memory nodes, and no process can join it until they are copied
 * from its parent.
 */
export function createCgroup(cgroup: string): void {
  for (const hierarchy of cgroupHierarchies().v1) {
    const parts = cgroup.split('/').filter((part) => part !== '');
    let current = hierarchy;
    for (const part of parts) {
      const parent = current;
      current = path.join(current, part);
      if (existsSync(current)) continue;
      mkdirSync(current);
      for (const file of ['cpuset.cpus', 'cpuset.mems'])
        if (existsSync(path.join(parent, file)))
          writeFileSync(path.join(current, file), readFileSync(path.join(parent, file)));
    }
  }
}

/** Moves a process into a cgroup of one hierarchy (e.g. 'pids'), made with createCgroup. */
export function joinCgroup(hierarchy: string, cgroup: string, pid: number): void {
  writeFileSync(path.join('/sys/fs/cgroup', hierarchy, cgroup, 'cgroup.procs'), `${pid}\n`);
}

/** Every cgroup directory under CGROUP_ROOT, in every hierarchy, deepest first. */
function nodeCgroupDirs(): string[] {
  const dirs: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }))
      if (entry.isDirectory()) walk(path.join(dir, entry.name));
    dirs.push(dir);
  };
  for (const hierarchy of cgroupHierarchies().all) {
    const root = path.join(hierarchy, CGROUP_ROOT);
    if (existsSync(root) && statSync(root).isDirectory()) walk(root);
  }
  return dirs;
}

/** PIDs of every process in the node's cgroups: containers, shims, and the daemons themselves. */
export function nodeCgroupPids(): number[] {
  const pids = new Set<number>();
  for (const dir of nodeCgroupDirs()) {
    try {
      for (const line of readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n'))
        if (line !== '') pids.add(Number(line));
    } catch {
      // Removed meanwhile.
    }
  }
  return [...pids];
}

/** Removes the node's cgroups (they must be empty); returns those that could not go. */
export function removeNodeCgroups(): string[] {
  const left: string[] = [];
  for (const dir of nodeCgroupDirs()) {
    try {
      rmdirSync(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') left.push(dir);
    }
  }
  return left;
}

// --- mounts ---

/**
 * Unmounts what the node mounted: anything under its directory (the kubelet's volumes and its
 * rshared root, containerd's overlays and shm) and the pod namespaces containerd pinned under
 * /run/netns, deepest first. A lazy unmount is the fallback for a mount still busy.
 */
export async function unmountNodeMounts(dir: string, mountsBefore: readonly string[]): Promise<string[]> {
  const before = new Set(mountsBefore);
  const ours = (mountPoint: string): boolean =>
    mountPoint === dir ||
    mountPoint.startsWith(`${dir}/`) ||
    (!before.has(mountPoint) &&
      (mountPoint.startsWith('/run/netns/cni-') || mountPoint.startsWith('/run/containerd/')));
  const failed: string[] = [];
  for (let pass = 0; pass < 5; pass++) {
    const targets = mountPoints().filter(ours).reverse();
    if (targets.length === 0) return [];
    failed.length = 0;
    for (const target of targets) {
      const result = await run('umount', [target]);
      if (result.code !== 0 && (await run('umount', ['-l', target])).code !== 0) failed.push(target);
    }
  }
  return failed;
}
