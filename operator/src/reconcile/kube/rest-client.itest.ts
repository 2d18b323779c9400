// The client's writes against a real API server: an apply that asks for its answer as metadata
// gets the API server's PartialObjectMetadata (no spec, no data, no status) holding the version
// the object is stored at, which is all the applier keeps.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import { createTestNamespace, testKubeConfig } from '../../../../testing/control-plane/index.ts';
import { KubeClient } from './rest-client.ts';

const admin = testKubeConfig();
const client = new KubeClient(admin, { fieldManager: 'rest-client-itest' });

type Answer = KubernetesObject & { spec?: unknown; data?: unknown; status?: unknown };

describe("the client's apply answers", () => {
  it('answer "metadata": a PartialObjectMetadata at the stored version, with labels, without spec', async (t) => {
    const namespace = await createTestNamespace(t, admin);
    const statefulSet = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'store', namespace, labels: { tier: 'store' }, annotations: { note: 'x' } },
      spec: {
        serviceName: 'store',
        selector: { matchLabels: { tier: 'store' } },
        template: {
          metadata: { labels: { tier: 'store' } },
          spec: { containers: [{ name: 'store', image: 'localhost/mtopo/store:0.1.0' }] },
        },
      },
    } as KubernetesObject;
    const whole = await client.apply<Answer>(statefulSet);
    assert.equal(whole.kind, 'StatefulSet');
    assert.ok(whole.spec, 'the default answer is the whole object');

    const changed = {
      ...statefulSet,
      metadata: { ...statefulSet.metadata, labels: { tier: 'store', v: '2' } },
    };
    const answer = await client.apply<Answer>(changed, { answer: 'metadata' });
    assert.equal(answer.kind, 'PartialObjectMetadata');
    assert.equal(answer.spec, undefined);
    assert.equal(answer.status, undefined);
    assert.deepEqual(answer.metadata?.labels, { tier: 'store', v: '2' });
    assert.equal(answer.metadata?.annotations?.note, 'x');
    // The StatefulSet controller writes its status right after, so only the generation (which
    // status writes leave alone) must match what is stored; the version is checked on a ConfigMap.
    const stored = await client.get<Answer>('StatefulSet', namespace, 'store');
    assert.ok(answer.metadata?.resourceVersion);
    assert.equal(answer.metadata?.generation, stored?.metadata?.generation);
  });

  it('answer "metadata" for a ConfigMap leaves its data out, and for a status write its status', async (t) => {
    const namespace = await createTestNamespace(t, admin);
    const answer = await client.apply<Answer>(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'c', namespace },
        data: { big: 'x'.repeat(4096) },
      } as KubernetesObject,
      { answer: 'metadata' },
    );
    assert.equal(answer.kind, 'PartialObjectMetadata');
    assert.equal(answer.data, undefined);
    // No controller writes a ConfigMap: the answer's version is the stored one.
    const storedMap = await client.get<Answer>('ConfigMap', namespace, 'c');
    assert.equal(answer.metadata?.resourceVersion, storedMap?.metadata?.resourceVersion);

    await client.apply({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'mx', namespace },
      spec: { type: 'LoadBalancer', ports: [{ name: 'smtp', port: 25, targetPort: 2525 }] },
    } as KubernetesObject);
    const ingress = [{ ip: '192.0.2.25', ipMode: 'VIP' }];
    const written = await client.applyStatus<Answer>(
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'mx', namespace },
        status: { loadBalancer: { ingress } },
      } as KubernetesObject,
      { answer: 'metadata' },
    );
    assert.equal(written.kind, 'PartialObjectMetadata');
    assert.equal(written.status, undefined);
    const stored = await client.get<Answer>('Service', namespace, 'mx');
    assert.deepEqual((stored?.status as { loadBalancer?: unknown }).loadBalancer, { ingress });
    assert.equal(written.metadata?.resourceVersion, stored?.metadata?.resourceVersion);
  });
});
