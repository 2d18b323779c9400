// The shared control plane is up and answers like a real cluster.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CoreV1Api, VersionApi } from '@kubernetes/client-node';
import { createTestNamespace, kubectl, testKubeConfig } from './index.ts';

test('serves the pinned Kubernetes version', async () => {
  const version = await testKubeConfig().makeApiClient(VersionApi).getCode();
  assert.match(version.gitVersion, /^v1\.\d+\.\d+$/);
});

test('stores a ConfigMap in a fresh namespace', async (t) => {
  const namespace = await createTestNamespace(t);
  const core = testKubeConfig().makeApiClient(CoreV1Api);
  await core.createNamespacedConfigMap({
    namespace,
    body: { metadata: { name: 'greeting' }, data: { text: 'hello' } },
  });
  const stored = await core.readNamespacedConfigMap({ namespace, name: 'greeting' });
  assert.equal(stored.data?.text, 'hello');

  // The pinned kubectl, with the same admin identity, sees it too.
  const { stdout } = await kubectl([
    'get',
    'configmap',
    'greeting',
    '-n',
    namespace,
    '-o',
    'jsonpath={.data.text}',
  ]);
  assert.equal(stdout, 'hello');
});
