// Tests that need a control plane of their own: the API server going away mid-watch (restarting the
// shared one would disturb every other test), and the cluster-wide mode (which would otherwise
// reconcile every other test's namespace).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../../../testing/control-plane/control-plane.ts';
import {
  applyManifests,
  clusterBinDir,
  installCrdsFrom,
  waitFor,
} from '../../../testing/control-plane/index.ts';
import { REPO_ROOT } from '../render/test-support.ts';
import { startOperatorHealth } from './health-server.ts';
import { KubeClient, listAllPages, type ListPage } from './kube/rest-client.ts';
import { operatorMetrics, type OperatorMetrics } from './metrics.ts';
import { Operator } from './operator.ts';
import { exampleIn, testOperatorOptions } from '../../../testing/operator/example-site.ts';

describe('the operator on a control plane of its own', () => {
  let controlPlane: ControlPlane;
  let kubeConfig: KubeConfig;
  let client: KubeClient;

  const createNamespaces = (...names: string[]) =>
    applyManifests(
      kubeConfig,
      names.map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })),
    );
  const operatorFor = (namespace: string | undefined, metrics: OperatorMetrics) =>
    new Operator(
      testOperatorOptions(kubeConfig, namespace, metrics, {
        watch: { backoffBaseMs: 100, backoffMaxMs: 1_000 },
      }),
    );

  before(async () => {
    controlPlane = await startControlPlane({ binDir: clusterBinDir() });
    kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(controlPlane.kubeconfigPath);
    client = new KubeClient(kubeConfig, { fieldManager: 'test-user' });
    await installCrdsFrom(kubeConfig, `${REPO_ROOT}crds`);
  });
  after(() => controlPlane?.stop());

  it('reconciles every namespace in cluster-wide mode', async (t) => {
    await createNamespaces('wide-a', 'wide-b');
    const operator = operatorFor(undefined, operatorMetrics());
    operator.start();
    t.after(() => operator.stop());
    for (const namespace of ['wide-a', 'wide-b']) {
      await applyManifests(kubeConfig, exampleIn(namespace), { fieldManager: 'kubectl' });
    }
    for (const namespace of ['wide-a', 'wide-b']) {
      await waitFor(`the site in ${namespace}`, () => client.get('Deployment', namespace, 'access-mmp'), {
        timeoutMs: 30_000,
      });
    }
  });

  it('recovers its watches and converges on changes made after an API server restart', async (t) => {
    const namespace = 'restart';
    await createNamespaces(namespace);
    const metrics = operatorMetrics();
    const operator = operatorFor(namespace, metrics);
    const health = await startOperatorHealth({
      port: 0,
      host: '127.0.0.1',
      metrics,
      readiness: () => operator.readiness(),
    });
    const port = health.port;
    operator.start();
    t.after(async () => {
      await operator.stop();
      await health.close();
    });
    await applyManifests(kubeConfig, exampleIn(namespace), { fieldManager: 'kubectl' });
    await waitFor('the first convergence', () => client.get('StatefulSet', namespace, 'edge-mta'), {
      timeoutMs: 30_000,
    });
    assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);

    await controlPlane.restartApiServer();

    // A change the operator can only see through a watch re-established after the restart.
    await client.delete('ConfigMap', namespace, 'edge-mta-config');
    await waitFor(
      'the deleted ConfigMap recreated after the restart',
      () => client.get('ConfigMap', namespace, 'edge-mta-config'),
      { timeoutMs: 30_000 },
    );
    const restarts = (await metrics.watchRestarts.get()).values.reduce((sum, v) => sum + v.value, 0);
    assert.ok(restarts > 0, 'the watches noticed the restart');
    // The count goes up when a reconcile returns, after its status write: the ConfigMap it recreated
    // shows up first, so the count is waited for (the reconcile the restart cut short counts as an error).
    const text = await waitFor(
      'a reconcile counted done',
      async () => {
        const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return /^mtopo_reconcile_total\{kind="MessagingTopology",result="done"\} [1-9]/m.test(body) && body;
      },
      { timeoutMs: 30_000 },
    );
    assert.match(
      text,
      /^mtopo_watch_restarts_total\{kind="[A-Za-z]+",reason="(error|closed|silent|expired)"\} [1-9]/m,
    );
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
  });
});

// Continue tokens expire only when the revision they name is compacted in etcd, and Kubernetes 1.35
// serves continued lists from the watch cache's snapshots instead: with that off, a compaction
// between two pages gives the second page the 410 a long list can meet on a busy cluster.
describe('paged lists on a control plane whose continued lists go to etcd', () => {
  let controlPlane: ControlPlane;
  let kubeConfig: KubeConfig;
  let client: KubeClient;
  before(async () => {
    controlPlane = await startControlPlane({
      binDir: clusterBinDir(),
      apiServerFlags: ['--feature-gates=ListFromCacheSnapshot=false'],
    });
    kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(controlPlane.kubeconfigPath);
    client = new KubeClient(kubeConfig, { fieldManager: 'test-user' });
  });
  after(() => controlPlane?.stop());

  it('starts a list over in one piece when its continue token expires between pages (410)', async () => {
    const namespace = 'paging';
    await applyManifests(kubeConfig, [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
    ]);
    const configMap = (name: string) =>
      ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace } }) as KubernetesObject;
    await applyManifests(kubeConfig, ['a', 'b', 'c', 'd', 'e'].map(configMap));
    const etcd = async (call: string, body: unknown) =>
      (await (
        await fetch(`${controlPlane.etcdUrl}/v3/kv/${call}`, { method: 'POST', body: JSON.stringify(body) })
      ).json()) as { header?: { revision?: string } };
    const queries: Record<string, string>[] = [];
    let compacted = false;
    const fetchPage = async (query: Record<string, string>) => {
      queries.push(query);
      if (query.continue && !compacted) {
        // A write after the first page, then compaction up to it: the first page's revision is gone.
        compacted = true;
        await applyManifests(kubeConfig, [configMap('late')]);
        const revision = (await etcd('range', { key: Buffer.from('/').toString('base64') })).header?.revision;
        await etcd('compaction', { revision, physical: true });
      }
      const search = new URLSearchParams(query).toString();
      return JSON.parse(
        await client.getText(`/api/v1/namespaces/${namespace}/configmaps${search ? `?${search}` : ''}`),
      ) as ListPage;
    };
    const { items } = await listAllPages(fetchPage, 2);
    const names = items.map((o) => o.metadata?.name).filter((n) => n !== 'kube-root-ca.crt');
    assert.deepEqual(names.sort(), ['a', 'b', 'c', 'd', 'e', 'late']);
    assert.deepEqual(queries.at(-1), {}, 'after the 410, one list without a limit');
    assert.ok(
      queries.some((q) => q.continue),
      'the first page had a continue token',
    );
  });
});
