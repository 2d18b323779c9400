// kube-controller-manager's garbage collector runs: deleting an owner deletes its dependents.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import { apiErrorStatus, createTestNamespace, testKubeConfig, waitFor } from './index.ts';

test('deleting an owner garbage-collects its dependents', async (t) => {
  const namespace = await createTestNamespace(t);
  const core = testKubeConfig().makeApiClient(CoreV1Api);
  const owner = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'owner' } } });
  assert.ok(owner.metadata?.uid);
  await core.createNamespacedConfigMap({
    namespace,
    body: {
      metadata: {
        name: 'dependent',
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid }],
      },
    },
  });

  await core.deleteNamespacedConfigMap({ namespace, name: 'owner' });

  await waitFor(
    'the garbage collector to delete the dependent ConfigMap',
    async () => {
      try {
        await core.readNamespacedConfigMap({ namespace, name: 'dependent' });
        return false;
      } catch (error) {
        if (apiErrorStatus(error) === 404) return true;
        throw error;
      }
    },
    { timeoutMs: 60_000 },
  );
});
