// Waiting for a CustomResourceDefinition to be usable: its resources served (Established) and its
// schema published in the OpenAPI document, which `kubectl explain` and clients' validation read.
import { readdirSync, readFileSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';
import path from 'node:path';
import { ApiextensionsV1Api, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { load } from 'js-yaml';
import { applyManifests } from './apply.ts';
import { waitFor } from '../support/wait.ts';

async function getJson(kubeConfig: KubeConfig, path: string): Promise<unknown> {
  const cluster = kubeConfig.getCurrentCluster();
  if (cluster === null) throw new Error('the kubeconfig has no current cluster');
  const options: RequestOptions = {};
  await kubeConfig.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, cluster.server), { ...options, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        if (res.statusCode === 200) resolve(JSON.parse(body));
        else reject(new Error(`GET ${path}: HTTP ${res.statusCode}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Waits until the CRD `name` (plural.group) is Established and every served version's schema is in
 * the apiserver's OpenAPI v3 document (published a moment after Established).
 */
export async function waitForCRDEstablished(
  kubeConfig: KubeConfig,
  name: string,
  timeoutMs = 30_000,
): Promise<void> {
  const extensions = kubeConfig.makeApiClient(ApiextensionsV1Api);
  const crd = await waitFor(
    `CustomResourceDefinition ${name} to be Established`,
    async () => {
      const current = await extensions.readCustomResourceDefinition({ name });
      const established = current.status?.conditions?.some(
        (c) => c.type === 'Established' && c.status === 'True',
      );
      return established === true && current;
    },
    { timeoutMs },
  );
  const { group, names, versions } = crd.spec;
  // OpenAPI names a kind's schema by its reversed group: mtopo.dev/v1alpha1 MTARelay → dev.mtopo.v1alpha1.MTARelay
  const reversedGroup = group.split('.').reverse().join('.');
  for (const version of versions.filter((v) => v.served)) {
    const schemaName = `${reversedGroup}.${version.name}.${names.kind}`;
    await waitFor(
      `the OpenAPI schema ${schemaName} to be published`,
      async () => {
        const document = (await getJson(kubeConfig, `/openapi/v3/apis/${group}/${version.name}`)) as {
          components?: { schemas?: Record<string, unknown> };
        };
        return document.components?.schemas?.[schemaName] !== undefined;
      },
      { timeoutMs },
    );
  }
}

/** Server-side applies every CRD file of a folder (one CRD per file) and waits until each is usable. */
export async function installCrdsFrom(kubeConfig: KubeConfig, dir: string): Promise<void> {
  const crds = readdirSync(dir)
    .filter((file) => file.endsWith('.yaml'))
    .map((file) => load(readFileSync(path.join(dir, file), 'utf8')) as KubernetesObject);
  await applyManifests(kubeConfig, crds);
  for (const crd of crds) await waitForCRDEstablished(kubeConfig, crd.metadata?.name ?? '');
}
