// A containerd of the test's own: root, state and socket in a scratch folder, the CRI plugin off
// (an import needs only the content store, the image store and a snapshotter), stopped by PID.
// The `native` snapshotter unpacks by copying, so an import mounts nothing on the machine.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess } from '../../../testing/support/processes.ts';
import { waitFor } from '../../../testing/support/wait.ts';
import type { ContainerdTarget } from '../ctr-import.ts';

export interface PrivateContainerd {
  readonly target: ContainerdTarget;
  readonly process: ManagedProcess;
  stop(): Promise<void>;
}

function which(program: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':'))
    if (dir && existsSync(join(dir, program))) return join(dir, program);
  return undefined;
}

/** Why no containerd can run here, or undefined when one can. */
export function containerdUnavailable(): string | undefined {
  if (!which('containerd') || !which('ctr'))
    return 'containerd and ctr are not installed (images/build/install-containerd.sh)';
  if (process.getuid?.() !== 0) return 'containerd needs root';
  return undefined;
}

export async function startPrivateContainerd(dir: string): Promise<PrivateContainerd> {
  const address = join(dir, 'containerd.sock');
  const config = join(dir, 'config.toml');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(
    config,
    [
      'version = 2',
      `root = ${JSON.stringify(join(dir, 'root'))}`,
      `state = ${JSON.stringify(join(dir, 'state'))}`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs",',
      '  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",',
      '  "io.containerd.snapshotter.v1.devmapper", "io.containerd.internal.v1.tracing"]',
      '[grpc]',
      `  address = ${JSON.stringify(address)}`,
      '[ttrpc]',
      `  address = ${JSON.stringify(join(dir, 'containerd.ttrpc.sock'))}`,
      '[plugins."io.containerd.internal.v1.opt"]',
      `  path = ${JSON.stringify(join(dir, 'opt'))}`,
      '',
    ].join('\n'),
  );
  const proc = ManagedProcess.spawn('containerd', 'containerd', ['--config', config], {
    logFile: join(dir, 'containerd.log'),
  });
  await waitFor(`containerd to listen on ${address}`, () => existsSync(address), {
    timeoutMs: 60_000,
    abortIf: () => (proc.hasExited() ? `containerd exited; see ${join(dir, 'containerd.log')}` : undefined),
  });
  return {
    target: { address, snapshotter: 'native' },
    process: proc,
    stop: () => proc.stop(10_000),
  };
}
