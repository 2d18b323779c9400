// What of the node can be seen on the machine: taken before a start and after the teardown, the two
// must be equal (the end-to-end run's global teardown checks it). Only what the node could have
// made counts, so other work on the machine (another suite's mounts or namespaces) cannot fail it.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { cgroupHierarchies, mountPoints, netnsNames, readSysctls } from './machine.ts';
import { CGROUP_ROOT, HOST_VETH, KUBELET_SYSCTLS } from './plan.ts';

/** Paths outside the node's directory that a daemon would create on its own (teardown removes them). */
export const DAEMON_CREATED_PATHS = [
  '/var/log/containers',
  '/var/lib/kubelet',
  '/run/containerd',
  '/var/lib/cni',
  '/usr/libexec/kubernetes',
  '/opt/containerd',
  '/var/run/nri',
  '/etc/cni',
  '/opt/cni',
] as const;

export interface Footprint {
  readonly sysctls: Readonly<Record<string, string>>;
  readonly existingPaths: readonly string[];
  readonly nodeMounts: readonly string[];
  readonly nodeNamespaces: readonly string[];
  readonly nodeCgroups: readonly string[];
  readonly hostVethPresent: boolean;
}

export function takeFootprint(): Footprint {
  return {
    sysctls: readSysctls(KUBELET_SYSCTLS),
    existingPaths: DAEMON_CREATED_PATHS.filter((p) => existsSync(p)),
    nodeMounts: mountPoints().filter(
      (m) =>
        m.startsWith('/tmp/mtopo-e2e-') || m.startsWith('/run/netns/cni-') || m === '/run/netns/mtopo-e2e',
    ),
    nodeNamespaces: netnsNames().filter((name) => name === 'mtopo-e2e' || name.startsWith('cni-')),
    nodeCgroups: cgroupHierarchies().all.filter((h) => existsSync(path.join(h, CGROUP_ROOT))),
    hostVethPresent: readdirSync('/sys/class/net').includes(HOST_VETH),
  };
}

/** Lines saying how `after` differs from `before`; empty when the machine is as it was. */
export function footprintDifferences(before: Footprint, after: Footprint): string[] {
  const differences: string[] = [];
  for (const key of Object.keys(before) as (keyof Footprint)[]) {
    const was = JSON.stringify(before[key]);
    const is = JSON.stringify(after[key]);
    if (was !== is) differences.push(`${key}: was ${was}, is ${is}`);
  }
  return differences;
}
