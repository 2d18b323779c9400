// How test files find the shared control plane: global-setup.ts starts it once per `node --test`
// run and hands its admin kubeconfig and the binaries' directory to the test processes through
// these environment variables.
import path from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig } from './kubeconfig.ts';

/** Admin kubeconfig of the test control plane. Set it yourself to reuse a running one (start.ts). */
export const KUBECONFIG_ENV = 'MTOPO_TEST_KUBECONFIG';
/** Directory with kubectl and the servers (see binaries.ts). */
export const BIN_DIR_ENV = 'MTOPO_CLUSTER_BIN';

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(
      `${name} is not set: run integration tests with \`make test-integration\` ` +
        '(node --test --test-global-setup=testing/control-plane/global-setup.ts …)',
    );
  }
  return value;
}

export function testKubeconfigPath(): string {
  return requiredEnv(KUBECONFIG_ENV);
}

/** A fresh admin (system:masters) KubeConfig for the test control plane. */
export function testKubeConfig(): KubeConfig {
  return loadKubeConfig(testKubeconfigPath());
}

export function clusterBinDir(): string {
  return requiredEnv(BIN_DIR_ENV);
}

/** Scratch space beside the admin kubeconfig, removed with the control plane. */
export function clusterScratchDir(): string {
  return path.dirname(testKubeconfigPath());
}
