// Starts the test control plane by hand, for poking at it or for running tests against it
// repeatedly without paying for a start each time:
//
//   node testing/control-plane/start.ts                      # prints the kubeconfig, runs until Ctrl-C
//   node testing/control-plane/start.ts -- kubectl get ns    # runs one command with KUBECONFIG set, then stops
//
// While it runs, `MTOPO_TEST_KUBECONFIG=<that kubeconfig> make test-integration` reuses it.
import path from 'node:path';
import { ensureClusterBinaries } from './binaries.ts';
import { startControlPlane } from './control-plane.ts';
import { runInForeground, untilInterrupted } from '../support/processes.ts';
import { BIN_DIR_ENV, KUBECONFIG_ENV } from './test-env.ts';

const separator = process.argv.indexOf('--');
const command = separator === -1 ? [] : process.argv.slice(separator + 1);

const binDir = await ensureClusterBinaries();
const startedAt = performance.now();
const controlPlane = await startControlPlane({ binDir, keepDir: process.env.MTOPO_KEEP_CLUSTER_DIR === '1' });
const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
console.error(`control plane at ${controlPlane.server} ready in ${seconds}s`);

const env = {
  ...process.env,
  KUBECONFIG: controlPlane.kubeconfigPath,
  KUBECACHEDIR: path.join(controlPlane.dir, 'kubectl-cache'),
  [KUBECONFIG_ENV]: controlPlane.kubeconfigPath,
  [BIN_DIR_ENV]: binDir,
  // The pinned kubectl first, so `kubectl` in the command is the one matching the server.
  PATH: `${binDir}:${process.env.PATH ?? ''}`,
};

let exitCode = 0;
const [program, ...args] = command;
if (program === undefined) {
  console.log(
    `export KUBECONFIG=${controlPlane.kubeconfigPath} ${KUBECONFIG_ENV}=${controlPlane.kubeconfigPath}`,
  );
  console.log(`export PATH=${binDir}:$PATH`);
  console.error('Ctrl-C stops it.');
  await untilInterrupted();
} else {
  exitCode = await runInForeground(program, args, env);
}
await controlPlane.stop();
process.exitCode = exitCode;
