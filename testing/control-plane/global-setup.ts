// `node --test --test-global-setup=testing/control-plane/global-setup.ts`: one control plane for the whole
// test run, started before the first test file and stopped after the last. The test processes
// inherit the environment set here (see test-env.ts).
import { ensureClusterBinaries } from './binaries.ts';
import { startControlPlane, type ControlPlane } from './control-plane.ts';
import { BIN_DIR_ENV, KUBECONFIG_ENV } from './test-env.ts';

let controlPlane: ControlPlane | undefined;

export async function globalSetup(): Promise<void> {
  process.env[BIN_DIR_ENV] = await ensureClusterBinaries();
  const existing = process.env[KUBECONFIG_ENV];
  if (existing !== undefined && existing !== '') {
    console.error(`testing/control-plane: using the running control plane of ${existing}`);
    return;
  }
  const startedAt = performance.now();
  controlPlane = await startControlPlane({
    binDir: process.env[BIN_DIR_ENV],
    keepDir: process.env.MTOPO_KEEP_CLUSTER_DIR === '1',
  });
  process.env[KUBECONFIG_ENV] = controlPlane.kubeconfigPath;
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
  console.error(
    `testing/control-plane: control plane at ${controlPlane.server} ready in ${seconds}s (${controlPlane.dir})`,
  );
}

export async function globalTeardown(): Promise<void> {
  await controlPlane?.stop();
  controlPlane = undefined;
}
