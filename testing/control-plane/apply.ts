// Putting manifests into the test control plane the way the operator and `kubectl apply
// --server-side` do: server-side apply, optionally as a dry run.
import {
  HttpMethod,
  KubernetesObjectApi,
  PatchStrategy,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';

export interface ApplyOptions {
  /** Validate and admit, but store nothing (`dryRun=All`): what the server would make of them. */
  readonly dryRun?: boolean;
  readonly fieldManager?: string;
  /** Take over fields owned by other managers instead of failing with a conflict. */
  readonly force?: boolean;
}

/**
 * KubernetesObjectApi.patch() runs each object through the typed model serializer, which reads
 * TypeScript property names: a plain manifest's `default`, `x-kubernetes-validations`, `$ref` …
 * (model names `_default`, `xKubernetesValidations`, `$ref`) are silently dropped from a CRD. This
 * sends the manifest exactly as given, keeping the class's discovery (kind → resource URL) and auth.
 */
class ServerSideApplyApi extends KubernetesObjectApi {
  static forConfig(kubeConfig: KubeConfig): ServerSideApplyApi {
    const client = kubeConfig.makeApiClient(ServerSideApplyApi);
    client.setDefaultNamespace(kubeConfig);
    return client;
  }

  async apply(object: KubernetesObject, options: Required<ApplyOptions>): Promise<KubernetesObject> {
    const request = this.configuration.baseServer.makeRequestContext(
      await this.specUriPath(object, 'patch'),
      HttpMethod.PATCH,
    );
    request.setHeaderParam('Accept', 'application/json');
    request.setHeaderParam('Content-Type', PatchStrategy.ServerSideApply);
    request.setQueryParam('fieldManager', options.fieldManager);
    request.setQueryParam('force', String(options.force));
    if (options.dryRun) request.setQueryParam('dryRun', 'All');
    request.setBody(JSON.stringify(object));
    // A type name the serializer does not know: the answer comes back as plain JSON too.
    return this.requestPromise(request, 'RawKubernetesObject');
  }
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
  const client = ServerSideApplyApi.forConfig(kubeConfig);
  const applied: KubernetesObject[] = [];
  for (const object of objects) {
    applied.push(await client.apply(object, { dryRun, fieldManager, force }));
  }
  return applied;
}
