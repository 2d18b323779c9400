// Runs an image the way a runtime would, without one: its layers extracted in order into a folder,
// then its entrypoint started in a private mount namespace where that folder is the root, mounted
// read-only, with a tmpfs on /tmp, the host's /dev and a /proc, the test's volumes bound in, as the
// image's user and with only the image's environment. The namespace and its mounts end with the
// process, so nothing is left on the machine.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess } from '../../../testing/support/processes.ts';
import { readImageArchive } from './read-archive.ts';

export interface RuntimeConfig {
  readonly Entrypoint?: string[];
  readonly Cmd?: string[];
  readonly Env?: string[];
  readonly User?: string;
  readonly WorkingDir?: string;
  readonly ExposedPorts?: Record<string, object>;
}

export interface ExtractedImage {
  readonly rootfs: string;
  readonly config: RuntimeConfig;
}

/** Why images cannot be run here, or undefined when they can. */
export function rootfsRunUnavailable(): string | undefined {
  return process.getuid?.() === 0
    ? undefined
    : 'running an image rootfs needs root (mount namespace, chroot)';
}

export async function extractImage(archive: string, dir: string): Promise<ExtractedImage> {
  const image = await readImageArchive(archive);
  const [manifest] = image.json('manifest.json') as { Config: string; Layers: string[] }[];
  if (!manifest) throw new Error(`${archive} has an empty manifest.json`);
  const rootfs = join(dir, 'rootfs');
  mkdirSync(rootfs, { recursive: true });
  for (const layer of manifest.Layers)
    execFileSync('tar', ['-x', '-C', rootfs, '--same-permissions', '--same-owner'], {
      input: image.file(layer),
    });
  const config = (JSON.parse(image.file(manifest.Config).toString()) as { config: RuntimeConfig }).config;
  return { rootfs, config };
}

export interface Bind {
  readonly host: string;
  /** Inside the image: must exist there (a read-only root cannot grow mount points). */
  readonly target: string;
  readonly readOnly?: boolean;
}

const quote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;

/** Starts the image's entrypoint (plus `args`, replacing Cmd) in its rootfs; stop it by its PID. */
export function startInRootfs(
  image: ExtractedImage,
  options: {
    args: readonly string[];
    /** Replaces the entrypoint (as a pod's `command` does). */
    command?: readonly string[];
    binds?: readonly Bind[];
    env?: Record<string, string>;
    logFile: string;
  },
): ManagedProcess {
  const root = image.rootfs;
  const user = image.config.User ?? '0:0';
  const group = user.split(':')[1] ?? '0';
  const env = [
    ...(image.config.Env ?? []),
    ...Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`),
  ];
  const command = [...(options.command ?? image.config.Entrypoint ?? []), ...options.args];
  const script = [
    'set -e',
    'CHROOT=$(command -v chroot)',
    `mount --bind ${quote(root)} ${quote(root)}`,
    ...(options.binds ?? []).flatMap((bind) => [
      `mount --bind ${quote(bind.host)} ${quote(join(root, bind.target))}`,
      ...(bind.readOnly ? [`mount -o remount,bind,ro ${quote(join(root, bind.target))}`] : []),
    ]),
    `mount -t tmpfs -o size=64m,mode=1777 tmpfs ${quote(join(root, 'tmp'))}`,
    `mount --rbind /dev ${quote(join(root, 'dev'))}`,
    `mount -t proc proc ${quote(join(root, 'proc'))}`,
    // Last: the root itself read-only, as readOnlyRootFilesystem makes it.
    `mount -o remount,bind,ro ${quote(root)}`,
    `exec env -i ${env.map(quote).join(' ')} "$CHROOT" --userspec=${quote(user)} --groups=${quote(group)} ${quote(root)} ${command.map(quote).join(' ')}`,
  ].join('\n');
  return ManagedProcess.spawn(
    'image',
    'unshare',
    ['--mount', '--propagation', 'private', 'sh', '-c', script],
    {
      logFile: options.logFile,
    },
  );
}
