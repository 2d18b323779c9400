import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import { renderSite } from '../render/render.ts';
import { loadExample } from '../render/test-support.ts';
import {
  APPLIED_HASH,
  childVersion,
  holdsApplied,
  ownFieldsOf,
  projectChild,
  STATUS_KINDS,
} from './cached-child.ts';
import { memberStatus, topologyStatus, type Observed } from './status.ts';

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
        {
          manager: 'mtopo-operator',
          operation: 'Apply',
          fieldsV1: { 'f:spec': { 'f:replicas': {}, 'f:serviceName': {} } },
        },
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

  it('keeps a digest of our own field set, which a removal of one of our fields changes', () => {
    const projected = projectChild(statefulSet(), 'mtopo-operator');
    assert.match(ownFieldsOf(projected), /^.{16}$/);
    // What the API server leaves after `kubectl patch --type=json -p '[{"op":"remove",…}]'`: no
    // entry of the remover (its field set is empty), only ours without the field.
    const removed = statefulSet();
    removed.metadata!.managedFields![0]!.fieldsV1 = { 'f:spec': { 'f:replicas': {} } };
    const afterRemoval = projectChild(removed, 'mtopo-operator');
    assert.equal(afterRemoval.metadata?.managedFields, undefined, 'no other manager is named');
    assert.notEqual(ownFieldsOf(afterRemoval), ownFieldsOf(projected));
    assert.notEqual(childVersion(afterRemoval), childVersion(projected));
    assert.equal(holdsApplied(afterRemoval, statefulSet(), 'h1'), true, 'the stamp alone cannot tell');
    assert.equal(
      holdsApplied(afterRemoval, statefulSet(), 'h1', ownFieldsOf(projected)),
      false,
      'our last field set can',
    );
  });

  it('keeps the same of a PartialObjectMetadata as of the whole object', () => {
    const whole = statefulSet();
    const { metadata } = whole;
    const partial = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata } as KubernetesObject;
    const fromWhole = projectChild(whole, 'mtopo-operator');
    const fromPartial = projectChild(partial, 'mtopo-operator');
    assert.equal(childVersion(fromPartial), childVersion(fromWhole));
    assert.deepEqual(fromPartial, withoutStatus(fromWhole), 'all of it but the status');
  });
});

function withoutStatus(o: KubernetesObject): KubernetesObject {
  const { status: _status, ...rest } = o as KubernetesObject & { status?: unknown };
  return rest;
}

describe('STATUS_KINDS', () => {
  // Every child of the example site, each with every status field any kind has: a status read
  // from a kind outside STATUS_KINDS (which is watched as metadata only) would change the result.
  const { site, objects } = renderSite(loadExample('minimal'));
  const everything = {
    observedGeneration: 1,
    replicas: 9,
    readyReplicas: 9,
    updatedReplicas: 9,
    availableReplicas: 9,
    currentHealthy: 9,
    loadBalancer: { ingress: [{ ip: '192.0.2.9' }] },
    conditions: [{ type: 'Ready', status: 'True' }],
  };
  const observed = (withStatus: (kind: string) => boolean): Observed =>
    new Map(
      objects.map((o) => [
        `${o.kind}/${o.metadata?.name}`,
        {
          ...o,
          metadata: { ...o.metadata, generation: 1 },
          ...(withStatus(o.kind ?? '') ? { status: everything } : {}),
        } as KubernetesObject,
      ]),
    );
  const statuses = (seen: Observed) => [
    topologyStatus(site, seen, [], [], undefined, '2026-01-02T00:00:00Z'),
    ...[...site.relays, ...site.pools].map((tier) =>
      memberStatus(site, tier, 1, seen, [], [], undefined, '2026-01-02T00:00:00Z'),
    ),
  ];

  it('names every kind whose status the site status reads', () => {
    assert.deepEqual(statuses(observed((kind) => STATUS_KINDS.has(kind))), statuses(observed(() => true)));
  });

  it('names none whose status is never read', () => {
    for (const kind of STATUS_KINDS) {
      assert.notDeepEqual(
        statuses(observed((k) => STATUS_KINDS.has(k) && k !== kind)),
        statuses(observed((k) => STATUS_KINDS.has(k))),
        `the status of ${kind} is read`,
      );
    }
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
