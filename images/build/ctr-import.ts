// Puts a built archive into a containerd, the way the kubelet will look for it: in the `k8s.io`
// namespace (the CRI's), unpacked into the snapshotter, under the archive's own name. `ctr` is
// containerd's own client; it reads the `manifest.json` of `docker save` archives.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ContainerdTarget {
  /** containerd's gRPC socket, e.g. /run/containerd/containerd.sock or a private test one. */
  readonly address: string;
  /** Default 'k8s.io', the namespace the kubelet's CRI uses. */
  readonly namespace?: string;
  /** The ctr binary; default 'ctr' from PATH. */
  readonly ctr?: string;
  /** Snapshotter to unpack into; default containerd's (overlayfs), which is the CRI's too. */
  readonly snapshotter?: string;
}

export class ImportError extends Error {
  override name = 'ImportError';
}

async function ctr(target: ContainerdTarget, args: string[], timeoutMs: number): Promise<string> {
  const base = ['--address', target.address, '--namespace', target.namespace ?? 'k8s.io'];
  try {
    const { stdout } = await run(target.ctr ?? 'ctr', [...base, ...args], {
      timeout: timeoutMs,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    throw new ImportError(`ctr ${args.join(' ')} failed: ${(stderr ?? '').trim() || message}`);
  }
}

/** The image names containerd holds in the target namespace. */
export async function listImages(target: ContainerdTarget): Promise<string[]> {
  const out = await ctr(target, ['images', 'list', '--quiet'], 60_000);
  return out.split('\n').filter((line) => line !== '');
}

/**
 * Imports the archive and checks that `name` is now listed: `ctr import` exits 0 having imported
 * nothing when an image config lacks `os`/`architecture`, so success is judged by the listing.
 */
export async function importImage(archive: string, name: string, target: ContainerdTarget): Promise<void> {
  const args = ['images', 'import'];
  if (target.snapshotter) args.push('--snapshotter', target.snapshotter);
  await ctr(target, [...args, archive], 10 * 60_000);
  const names = await listImages(target);
  if (!names.includes(name))
    throw new ImportError(
      `ctr imported ${archive} but lists no ${name} (it has: ${names.join(', ') || 'nothing'}); ` +
        'is the archive built for this platform?',
    );
}

/** Gives an image containerd holds a second name (as a release would bring the same bytes under a new tag). */
export async function tagImage(target: ContainerdTarget, source: string, name: string): Promise<void> {
  await ctr(target, ['images', 'tag', '--force', source, name], 60_000);
}
