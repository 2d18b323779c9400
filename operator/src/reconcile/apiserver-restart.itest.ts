// The API server goes away mid-watch and comes back: the operator's watches fail, back off, resume,
// and it converges again. This file starts a control plane of its own so that restarting the API
// server does not disturb the tests that share the suite's.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import { pino } from 'pino';
import { startControlPlane, type ControlPlane } from '../../../e2e/cluster/control-plane.ts';
import { applyManifests, clusterBinDir, waitFor, installCrdsFrom } from '../../../e2e/cluster/index.ts';
import { REPO_ROOT } from '../render/test-support.ts';
import { KubeClient } from './kube/rest-client.ts';
import { startHealthServer } from './health-server.ts';
import { operatorMetrics } from './metrics.ts';
import { Operator } from './operator.ts';

describe('the operator across an API server restart', () => {
  let controlPlane: ControlPlane;
  let kubeConfig: KubeConfig;

  before(async () => {
    controlPlane = await startControlPlane({ binDir: clusterBinDir() });
    kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(controlPlane.kubeconfigPath);
    await installCrdsFrom(kubeConfig, `${REPO_ROOT}crds`);
  });
  after(() => controlPlane?.stop());

  it('recovers its watches and converges on changes made after the restart', async () => {
    const namespace = 'restart';
    const client = new KubeClient(kubeConfig, { fieldManager: 'test-user' });
    await client
      .create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } } as KubernetesObject)
      .catch(
        // Namespaces are cluster-scoped and not in the operator's table: create through the apply helper.
        () =>
          applyManifests(kubeConfig, [
            { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
          ]),
      );
    const metrics = operatorMetrics();
    const operator = new Operator({
      kubeConfig,
      namespace,
      workers: 2,
      resyncMs: 3_600_000,
      fieldManager: 'mtopo-operator',
      leaderElection: { enabled: false },
      log: pino({ level: process.env.MTOPO_TEST_LOG ?? 'silent' }),
      metrics,
      watch: { backoffBaseMs: 100, backoffMaxMs: 1_000 },
    });
    const health = await startHealthServer(0, '127.0.0.1', metrics.registry, () => operator.readiness());
    const port = (health.address() as { port: number }).port;
    operator.start();
    try {
      const docs = (
        loadAll(readFileSync(`${REPO_ROOT}examples/minimal.yaml`, 'utf8')) as KubernetesObject[]
      ).map((d) => ({
        ...d,
        metadata: { ...d.metadata, namespace },
      }));
      await applyManifests(kubeConfig, docs, { fieldManager: 'kubectl' });
      await waitFor(
        'the first convergence',
        async () => await client.get('StatefulSet', namespace, 'edge-mta'),
        { timeoutMs: 30_000 },
      );
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      assert.equal(ready.status, 200);

      await controlPlane.restartApiServer();

      // A change the operator can only see through a watch re-established after the restart.
      await client.delete('ConfigMap', namespace, 'edge-mta-config');
      await waitFor(
        'the deleted ConfigMap recreated after the restart',
        async () => await client.get('ConfigMap', namespace, 'edge-mta-config'),
        {
          timeoutMs: 30_000,
        },
      );
      const restarts = (await metrics.watchRestarts.get()).values.reduce((sum, v) => sum + v.value, 0);
      assert.ok(restarts > 0, 'the watches noticed the restart');
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(
        text,
        /^mtopo_watch_restarts_total\{kind="[A-Za-z]+",reason="(error|closed|silent|expired)"\} [1-9]/m,
      );
      assert.match(text, /^mtopo_reconcile_total\{kind="MessagingTopology",result="done"\} [1-9]/m);
      assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    } finally {
      await operator.stop();
      health.close();
    }
  });
});
