// Runs the pinned kubectl against the test control plane, for what tests check through the CLI
// a user would use (`kubectl explain`, `kubectl apply`, `kubectl auth can-i`).
import { execFile } from 'node:child_process';
import path from 'node:path';
import { clusterBinDir, clusterScratchDir, testKubeconfigPath } from './test-env.ts';

export interface KubectlOptions {
  /** Written to kubectl's stdin (e.g. for `apply -f -`). */
  readonly input?: string;
  /** Another identity, e.g. a RoleClient's kubeconfigPath; the admin one by default. */
  readonly kubeconfigPath?: string;
  /** Throw when kubectl exits non-zero (default); false returns the result to inspect. */
  readonly check?: boolean;
  readonly timeoutMs?: number;
}

export interface KubectlResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function kubectl(args: readonly string[], options: KubectlOptions = {}): Promise<KubectlResult> {
  const { input, kubeconfigPath = testKubeconfigPath(), check = true, timeoutMs = 60_000 } = options;
  const env = {
    ...process.env,
    KUBECONFIG: kubeconfigPath,
    // Its discovery cache with the throwaway cluster, not in ~/.kube.
    KUBECACHEDIR: path.join(clusterScratchDir(), 'kubectl-cache'),
  };
  return new Promise((resolve, reject) => {
    const child = execFile(
      path.join(clusterBinDir(), 'kubectl'),
      [...args],
      { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const exitCode = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        const result = { exitCode, stdout, stderr };
        if (check && exitCode !== 0) {
          reject(new Error(`kubectl ${args.join(' ')} exited with ${exitCode}: ${stderr.trim()}`));
        } else {
          resolve(result);
        }
      },
    );
    child.stdin?.end(input);
  });
}
