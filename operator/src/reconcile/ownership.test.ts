import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import { renderSite } from '../render/render.ts';
import { loadExample } from '../render/test-support.ts';
import { prunable, withOwner } from './ownership.ts';

const child = (kind: string, name: string, ownerUid?: string): KubernetesObject => ({
  kind,
  metadata: {
    name,
    ...(ownerUid
      ? {
          ownerReferences: [{ apiVersion: 'mtopo.dev/v1alpha1', kind: 'MTARelay', name: 'x', uid: ownerUid }],
        }
      : {}),
  },
});

describe('withOwner', () => {
  const { site, objects } = renderSite(loadExample('siroe'));
  const uids = {
    topology: 'u-topo',
    members: new Map([
      ['MTARelay/edge', 'u-edge'],
      ['MMPPool/access', 'u-access'],
    ]),
  };
  const ownerOf = (kind: string, name: string) =>
    withOwner(
      site,
      objects.find((o) => o.kind === kind && o.metadata?.name === name)!,
      uids,
    ).metadata?.ownerReferences?.[0];

  it("gives a tier's objects to the resource the tier comes from", () => {
    assert.equal(ownerOf('StatefulSet', 'edge-mta')?.uid, 'u-edge');
    assert.equal(ownerOf('NetworkPolicy', 'access-mmp')?.uid, 'u-access');
    assert.equal(ownerOf('StatefulSet', 'edge-mta')?.controller, true);
  });

  it('gives the stores and site-wide objects to the topology', () => {
    assert.equal(ownerOf('StatefulSet', 'siroe-store')?.uid, 'u-topo');
    assert.equal(ownerOf('NetworkPolicy', 'siroe-default-deny')?.uid, 'u-topo');
    assert.equal(ownerOf('Certificate', 'siroe-tls')?.uid, 'u-topo');
  });
});

describe('prunable', () => {
  it('deletes only undesired children owned by this site, never those of an invalid owner or of nobody', () => {
    const existing = [
      child('Service', 'kept', 'u1'),
      child('Service', 'gone', 'u1'),
      child('Service', 'invalid-owner', 'u2'),
      child('Service', 'foreign', 'u9'),
      child('Service', 'unowned'),
    ];
    const result = prunable(existing, new Set(['Service/kept']), new Set(['u1', 'u2']), new Set(['u2']));
    assert.deepEqual(
      result.map((o) => o.metadata?.name),
      ['gone'],
    );
  });
});
