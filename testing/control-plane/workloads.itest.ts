// The workload controllers run: a Deployment gets a ReplicaSet, which gets Pods. With no nodes
// (and no scheduler) the Pods stay Pending, unscheduled.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { createTestNamespace, testKubeConfig, waitFor } from './index.ts';

test('a Deployment gets a ReplicaSet and Pending Pods', async (t) => {
  const namespace = await createTestNamespace(t);
  const kubeConfig = testKubeConfig();
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const labels = { app: 'echo' };
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: 'echo' },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: 'echo', image: 'registry.invalid/echo:1' }] },
        },
      },
    },
  });

  const replicaSet = await waitFor('the deployment controller to create a ReplicaSet', async () => {
    const list = await apps.listNamespacedReplicaSet({ namespace });
    return list.items[0];
  });
  assert.equal(replicaSet.metadata?.ownerReferences?.[0]?.kind, 'Deployment');
  assert.equal(replicaSet.spec?.replicas, 2);

  const pods = await waitFor(
    'the replicaset controller to create 2 Pods',
    async () => {
      const list = await core.listNamespacedPod({ namespace });
      return list.items.length === 2 && list.items;
    },
    { timeoutMs: 60_000 },
  );
  for (const pod of pods) {
    assert.equal(pod.metadata?.ownerReferences?.[0]?.name, replicaSet.metadata?.name);
    assert.equal(pod.status?.phase, 'Pending');
    assert.equal(pod.spec?.nodeName, undefined);
  }
});
