import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import { APPLIED_HASH, childVersion, holdsApplied, projectChild } from './cached-child.ts';

const statefulSet = (overrides: Record<string, unknown> = {}) =>
  ({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: {
      name: 'edge-mta',
      namespace: 'mail',
      uid: 'u1',
      resourceVersion: '41',
      generation: 3,
      labels: { 'mtopo.dev/tier': 'edge-mta' },
      annotations: { [APPLIED_HASH]: 'h1' },
      ownerReferences: [{ apiVersion: 'mtopo.dev/v1alpha1', kind: 'MTARelay', name: 'edge', uid: 'r1' }],
      managedFields: [
        { manager: 'mtopo-operator', operation: 'Apply', fieldsV1: { 'f:spec': {} } },
        { manager: 'kube-controller-manager', operation: 'Update', subresource: 'status', fieldsV1: {} },
        {
          manager: 'kube-controller-manager',
          operation: 'Update',
          fieldsV1: { 'f:metadata': { 'f:annotations': {} } },
        },
      ],
      ...overrides,
    },
    spec: { replicas: 2, template: { spec: { containers: [{ name: 'mta', image: 'x' }] } } },
    status: { observedGeneration: 3, readyReplicas: 2, updatedReplicas: 2 },
  }) as KubernetesObject;

describe('projectChild', () => {
  it('keeps identity, labels, annotations, owners, generation and status, and drops the spec', () => {
    const projected = projectChild(statefulSet(), 'mtopo-operator') as KubernetesObject & {
      spec?: unknown;
      status?: unknown;
    };
    assert.equal(projected.spec, undefined);
    assert.deepEqual(projected.status, { observedGeneration: 3, readyReplicas: 2, updatedReplicas: 2 });
    assert.equal(projected.metadata?.generation, 3);
    assert.equal(projected.metadata?.uid, 'u1');
    assert.deepEqual(projected.metadata?.labels, { 'mtopo.dev/tier': 'edge-mta' });
    assert.equal(projected.metadata?.ownerReferences?.[0]?.uid, 'r1');
    assert.equal(
      projected.metadata?.managedFields,
      undefined,
      'status and metadata writes are no one’s edit',
    );
  });

  it('keeps, by name only, another manager that wrote the fields we apply', () => {
    const edited = statefulSet();
    edited.metadata!.managedFields!.push({
      manager: 'kubectl-edit',
      operation: 'Update',
      fieldsV1: { 'f:spec': { 'f:replicas': {} } },
    });
    const projected = projectChild(edited, 'mtopo-operator');
    assert.deepEqual(projected.metadata?.managedFields, [{ manager: 'kubectl-edit', operation: 'Update' }]);
    assert.equal(holdsApplied(projected, statefulSet(), 'h1'), false);
  });
});

describe('childVersion', () => {
  it('does not change with a status write (a new resourceVersion, the same generation)', () => {
    const before = childVersion(statefulSet());
    assert.equal(childVersion(statefulSet({ resourceVersion: '42' })), before);
  });

  it('changes with the generation, a label or an annotation', () => {
    const before = childVersion(statefulSet());
    assert.notEqual(childVersion(statefulSet({ generation: 4 })), before);
    assert.notEqual(childVersion(statefulSet({ labels: { 'mtopo.dev/tier': 'other' } })), before);
    assert.notEqual(childVersion(statefulSet({ annotations: { [APPLIED_HASH]: 'h2' } })), before);
  });

  it('reads the resourceVersion of a kind without a generation', () => {
    const configMap = (resourceVersion: string) =>
      ({ kind: 'ConfigMap', metadata: { name: 'c', resourceVersion } }) as KubernetesObject;
    assert.notEqual(childVersion(configMap('1')), childVersion(configMap('2')));
  });
});

describe('holdsApplied', () => {
  const desired = {
    kind: 'StatefulSet',
    metadata: { name: 'edge-mta', labels: { 'mtopo.dev/tier': 'edge-mta' } },
  };

  it('is true for a child stamped with the same hash and written by no one else', () => {
    const projected = projectChild(statefulSet(), 'mtopo-operator');
    assert.equal(holdsApplied(projected, desired, 'h1'), true);
    assert.equal(holdsApplied(projected, desired, 'h2'), false, 'we would apply something else');
  });

  it('is false when another hand changed one of our labels (a write to metadata only)', () => {
    const relabelled = statefulSet({ labels: { 'mtopo.dev/tier': 'other' } });
    relabelled.metadata!.managedFields!.push({
      manager: 'kubectl-label',
      operation: 'Update',
      fieldsV1: { 'f:metadata': { 'f:labels': { 'f:mtopo.dev/tier': {} } } },
    });
    assert.equal(holdsApplied(projectChild(relabelled, 'mtopo-operator'), desired, 'h1'), false);
  });
});
