// A client limited to one RBAC role can do what the role allows, and gets 403 for the rest.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import { clientWithRole, createTestNamespace, expectApiError, kubectl } from './index.ts';

test('a client with a Role of given rules can do exactly that', async (t) => {
  const namespace = await createTestNamespace(t);
  const otherNamespace = await createTestNamespace(t);
  const client = await clientWithRole(t, {
    namespace,
    rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'create'] }],
  });
  const core = client.kubeConfig.makeApiClient(CoreV1Api);

  await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'allowed' } } });
  const list = await core.listNamespacedConfigMap({ namespace });
  assert.ok(list.items.some((item) => item.metadata?.name === 'allowed'));

  const forbidden = await expectApiError(core.deleteNamespacedConfigMap({ namespace, name: 'allowed' }), 403);
  assert.match(forbidden, new RegExp(client.userName));
  await expectApiError(core.listNamespacedSecret({ namespace }), 403);
  await expectApiError(core.listNamespacedConfigMap({ namespace: otherNamespace }), 403);
  await expectApiError(core.listNamespace(), 403);

  // kubectl with the client's kubeconfig is the same identity.
  const canI = await kubectl(['auth', 'can-i', 'delete', 'configmaps', '-n', namespace], {
    kubeconfigPath: client.kubeconfigPath,
    check: false,
  });
  assert.equal(canI.stdout.trim(), 'no');
});

test('a client bound to the built-in view ClusterRole reads but cannot write', async (t) => {
  const namespace = await createTestNamespace(t);
  const client = await clientWithRole(t, { namespace, role: { kind: 'ClusterRole', name: 'view' } });
  const core = client.kubeConfig.makeApiClient(CoreV1Api);

  await core.listNamespacedConfigMap({ namespace });
  await expectApiError(
    core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'nope' } } }),
    403,
  );
  await expectApiError(core.listNamespacedSecret({ namespace }), 403);
});
