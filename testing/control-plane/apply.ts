// Putting manifests into the test control plane the way the operator and `kubectl apply
// --server-side` do: server-side apply, optionally as a dry run.
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { KubeClient } from '../../operator/src/reconcile/kube/rest-client.ts';

export interface ApplyOptions {
  /** Validate and admit, but store nothing (`dryRun=All`): what the server would make of them. */
  readonly dryRun?: boolean;
  readonly fieldManager?: string;
  /** Take over fields owned by other managers instead of failing with a conflict. */
  readonly force?: boolean;
}

/** One client, so one connection pool, per kubeconfig: the operator's own apply path. */
const clients = new WeakMap<KubeConfig, KubeClient>();

function clientFor(kubeConfig: KubeConfig): KubeClient {
  let client = clients.get(kubeConfig);
  if (!client) clients.set(kubeConfig, (client = new KubeClient(kubeConfig, { fieldManager: 'mtopo-test' })));
  return client;
}

/**
 * Server-side applies each object in order and returns what the server answered (with defaults
 * filled in, and for a dry run exactly what would have been stored). Stops at the first rejection,
 * a KubeApiError (`status`, `message`: the server's Status) that says why. This is the operator's
 * own server-side apply (KubeClient), so tests, the benchmark and the operator send the same
 * request: the manifest exactly as given, one connection pool per kubeconfig.
 */
export async function applyManifests(
  kubeConfig: KubeConfig,
  objects: readonly KubernetesObject[],
  options: ApplyOptions = {},
): Promise<KubernetesObject[]> {
  const { dryRun = false, fieldManager = 'mtopo-test', force = true } = options;
  const client = clientFor(kubeConfig);
  const applied: KubernetesObject[] = [];
  for (const object of objects) {
    applied.push(await client.apply(object, { dryRun, fieldManager, force }));
  }
  return applied;
}
