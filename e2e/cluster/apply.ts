// Putting manifests into the test control plane the way the operator and `kubectl apply
// --server-side` do (server-side apply), and waiting for CustomResourceDefinitions to be served.
import {
  ApiextensionsV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { waitFor } from './wait.ts';

export interface ApplyOptions {
  /** Validate and admit, but store nothing (`dryRun=All`): what the server would make of them. */
  readonly dryRun?: boolean;
  readonly fieldManager?: string;
  /** Take over fields owned by other managers instead of failing with a conflict. */
  readonly force?: boolean;
}

/**
 * Server-side applies each object in order and returns what the server answered (with defaults
 * filled in, and for a dry run exactly what would have been stored). Stops at the first rejection,
 * whose ApiException (`code`, `body`) says why.
 */
export async function applyManifests(
  kubeConfig: KubeConfig,
  objects: readonly KubernetesObject[],
  options: ApplyOptions = {},
): Promise<KubernetesObject[]> {
  const { dryRun = false, fieldManager = 'mtopo-test', force = true } = options;
  const client = KubernetesObjectApi.makeApiClient(kubeConfig);
  const applied: KubernetesObject[] = [];
  for (const object of objects) {
    applied.push(
      await client.patch(
        object,
        undefined,
        dryRun ? 'All' : undefined,
        fieldManager,
        force,
        PatchStrategy.ServerSideApply,
      ),
    );
  }
  return applied;
}

/** Waits until the CRD `name` (plural.group) is Established, i.e. its resources are served. */
export async function waitForCRDEstablished(
  kubeConfig: KubeConfig,
  name: string,
  timeoutMs = 30_000,
): Promise<void> {
  const extensions = kubeConfig.makeApiClient(ApiextensionsV1Api);
  await waitFor(
    `CustomResourceDefinition ${name} to be Established`,
    async () => {
      const crd = await extensions.readCustomResourceDefinition({ name });
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') === true;
    },
    { timeoutMs },
  );
}
