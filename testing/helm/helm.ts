// Runs the pinned helm (built from Go modules by testing/go-tools, cached under ~/.cache/mtopo) for the
// chart's tests: `helm lint`, `helm template`, and `helm install` into the test control plane.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildGoTool } from '../go-tools/build.ts';
import type { KubernetesObject } from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';

/** Set to a helm binary to use it instead of building one (`MTOPO_HELM_BIN=$(command -v helm)`). */
export const HELM_BIN_ENV = 'MTOPO_HELM_BIN';

let binary: Promise<string> | undefined;

/**
 * The path of the pinned helm binary. A cached build answers at once; the first build on a machine
 * takes a few minutes (progress on stderr). `make helm-bin` builds it ahead of the tests.
 */
export function ensureHelmBinary(): Promise<string> {
  const override = process.env[HELM_BIN_ENV];
  if (override !== undefined && override !== '') return Promise.resolve(override);
  binary ??= buildGoTool(fileURLToPath(new URL('.', import.meta.url))).then((binDir) =>
    path.join(binDir, 'helm'),
  );
  // A failed build is not remembered: the next call tries again.
  void binary.catch(() => (binary = undefined));
  return binary;
}

export interface HelmOptions {
  /** Written to helm's stdin (e.g. `--values -`). */
  readonly input?: string;
  /** Throw when helm exits non-zero (default); false returns the result to inspect. */
  readonly check?: boolean;
  readonly timeoutMs?: number;
  readonly cwd?: string;
  /** A cluster to talk to (`helm install`); without it helm sees no kubeconfig at all. */
  readonly kubeconfigPath?: string;
}

export interface HelmResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

// helm keeps a config, cache and data directory; give it a throwaway one, never the user's ~/.config/helm.
let helmHome: string | undefined;
function helmEnvironment(kubeconfigPath: string | undefined): NodeJS.ProcessEnv {
  if (helmHome === undefined) {
    const home = mkdtempSync(path.join(tmpdir(), 'mtopo-helm-'));
    process.once('exit', () => rmSync(home, { recursive: true, force: true }));
    helmHome = home;
  }
  return {
    ...process.env,
    HELM_CONFIG_HOME: path.join(helmHome, 'config'),
    HELM_CACHE_HOME: path.join(helmHome, 'cache'),
    HELM_DATA_HOME: path.join(helmHome, 'data'),
    // Templating needs no cluster: never read the user's kubeconfig.
    KUBECONFIG: kubeconfigPath ?? path.join(helmHome, 'no-kubeconfig'),
  };
}

/** Runs `helm ARGS…` and returns its exit code and output. */
export async function helm(args: readonly string[], options: HelmOptions = {}): Promise<HelmResult> {
  const { input, check = true, timeoutMs = 60_000, cwd, kubeconfigPath } = options;
  const executable = await ensureHelmBinary();
  return new Promise((resolve, reject) => {
    const child = execFile(
      executable,
      [...args],
      { env: helmEnvironment(kubeconfigPath), cwd, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const exitCode = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        if (check && exitCode !== 0) {
          reject(new Error(`helm ${args.join(' ')} exited with ${exitCode}: ${stderr.trim()}`));
        } else {
          resolve({ exitCode, stdout, stderr });
        }
      },
    );
    child.stdin?.end(input);
  });
}

export interface TemplateOptions {
  readonly releaseName?: string;
  /** The release namespace (`--namespace`). */
  readonly namespace: string;
  /** Values, handed to helm as a values file on stdin. */
  readonly values?: Record<string, unknown>;
  /** Also render the chart's crds/ (`--include-crds`). */
  readonly includeCrds?: boolean;
  /** Also render the `helm test` hooks (left out by default: they are not part of an install). */
  readonly includeTests?: boolean;
  /** API versions the cluster is to serve (`--api-versions`), for `.Capabilities.APIVersions.Has`. */
  readonly apiVersions?: readonly string[];
}

/** `helm template` of a chart directory, parsed: one object per rendered document, in order. */
export async function helmTemplate(chartDir: string, options: TemplateOptions): Promise<KubernetesObject[]> {
  const {
    releaseName = 'mtopo',
    namespace,
    values = {},
    includeCrds = false,
    includeTests = false,
    apiVersions = [],
  } = options;
  const args = ['template', releaseName, chartDir, '--namespace', namespace, '--values', '-'];
  if (includeCrds) args.push('--include-crds');
  if (!includeTests) args.push('--skip-tests');
  for (const version of apiVersions) args.push('--api-versions', version);
  const { stdout } = await helm(args, { input: JSON.stringify(values) });
  return loadAll(stdout).filter((doc): doc is KubernetesObject => doc !== null && doc !== undefined);
}
