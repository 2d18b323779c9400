// The helpers later tests build on: server-side apply (and its dry run), CRDs becoming served,
// schema validation rejecting bad custom resources, `kubectl explain` reading the schema's docs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiextensionsV1Api, type KubernetesObject } from '@kubernetes/client-node';
import { apiErrorStatus, expectApiError } from './api-errors.ts';
import {
  applyManifests,
  createTestNamespace,
  kubectl,
  testKubeConfig,
  waitForCRDEstablished,
} from './index.ts';

const widgetCRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.itest.mtopo.dev' },
  spec: {
    group: 'itest.mtopo.dev',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                description: 'What the widget should be.',
                // Plain-manifest keys that a typed client would drop: proves applyManifests sends them.
                'x-kubernetes-validations': [{ rule: 'self.size <= 10', message: 'at most 10 parts' }],
                properties: {
                  size: { type: 'integer', minimum: 1, description: 'How many parts the widget has.' },
                  colour: { type: 'string', default: 'grey', description: 'Paint, if any.' },
                },
                required: ['size'],
              },
            },
          },
        },
      },
    ],
  },
};

function widget(namespace: string, name: string, spec: Record<string, unknown>): KubernetesObject {
  return {
    apiVersion: 'itest.mtopo.dev/v1',
    kind: 'Widget',
    metadata: { name, namespace },
    spec,
  } as KubernetesObject;
}

test('a CRD applied server-side is served, documented and validated', async (t) => {
  const kubeConfig = testKubeConfig();
  await applyManifests(kubeConfig, [widgetCRD]);
  t.after(async () => {
    await kubeConfig
      .makeApiClient(ApiextensionsV1Api)
      .deleteCustomResourceDefinition({ name: widgetCRD.metadata.name });
  });
  await waitForCRDEstablished(kubeConfig, widgetCRD.metadata.name);
  const namespace = await createTestNamespace(t);

  await t.test('kubectl explain shows the schema descriptions', async () => {
    const { stdout } = await kubectl(['explain', 'widgets.spec.size']);
    assert.match(stdout, /How many parts the widget has\./);
  });

  await t.test('a dry run returns the defaulted object and stores nothing', async () => {
    const [answer] = await applyManifests(kubeConfig, [widget(namespace, 'dry', { size: 3 })], {
      dryRun: true,
    });
    assert.equal((answer as { spec?: { colour?: string } }).spec?.colour, 'grey');
    const probe = await kubectl(['get', 'widget', 'dry', '-n', namespace], { check: false });
    assert.notEqual(probe.exitCode, 0);
    assert.match(probe.stderr, /NotFound/);
  });

  await t.test('an invalid object is rejected with 422 and the reason', async () => {
    const message = await expectApiError(
      applyManifests(kubeConfig, [widget(namespace, 'bad', { size: 0 })]),
      422,
    );
    assert.match(message, /spec\.size/);
    const celMessage = await expectApiError(
      applyManifests(kubeConfig, [widget(namespace, 'big', { size: 11 })]),
      422,
    );
    assert.match(celMessage, /at most 10 parts/);
  });

  await t.test('a valid object is stored, and re-applying it is a no-op', async () => {
    const [first] = await applyManifests(kubeConfig, [widget(namespace, 'real', { size: 2 })]);
    const [second] = await applyManifests(kubeConfig, [widget(namespace, 'real', { size: 2 })]);
    assert.equal(second?.metadata?.resourceVersion, first?.metadata?.resourceVersion);
  });

  await t.test('a conflicting field manager is refused unless it forces', async () => {
    const conflict = applyManifests(kubeConfig, [widget(namespace, 'real', { size: 5 })], {
      fieldManager: 'someone-else',
      force: false,
    });
    await assert.rejects(conflict, (error) => apiErrorStatus(error) === 409);
  });
});
