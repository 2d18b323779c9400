// Where the pinned control-plane binaries are: built (or found in the cache) by build.sh.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const buildScript = fileURLToPath(new URL('./build.sh', import.meta.url));

/**
 * The bin directory holding etcd, kube-apiserver, kube-controller-manager and kubectl. A cached
 * build answers at once; the first build on a machine takes many minutes, with its progress on
 * stderr. MTOPO_CLUSTER_BIN overrides the lookup (binaries built elsewhere).
 */
export function ensureClusterBinaries(): Promise<string> {
  const override = process.env.MTOPO_CLUSTER_BIN;
  if (override !== undefined && override !== '') return Promise.resolve(override);
  return new Promise((resolve, reject) => {
    const build = spawn('bash', [buildScript], { stdio: ['ignore', 'pipe', 'inherit'] });
    let binDir = '';
    build.stdout.on('data', (chunk: Buffer) => (binDir += chunk.toString()));
    build.once('error', reject);
    build.once('close', (code) => {
      if (code === 0) resolve(binDir.trim());
      else reject(new Error(`${buildScript} exited with ${code}`));
    });
  });
}
