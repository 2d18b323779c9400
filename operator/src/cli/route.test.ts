import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderSite } from '../render/render.ts';
import { loadExample } from '../render/test-support.ts';
import { readyPod, routeExecArgs, routeTier, type PodView } from './route.ts';

const siroe = renderSite(loadExample('siroe')).site;

describe('routeTier', () => {
  it("asks the site's inbound tier unless told otherwise", () => {
    const chosen = routeTier(siroe);
    assert.ok(chosen.ok);
    assert.equal(chosen.value.name, 'inbound-mta');
  });

  it("takes a relay by its MTARelay's name or by its tier name", () => {
    for (const wanted of ['edge', 'edge-mta']) {
      const chosen = routeTier(siroe, wanted);
      assert.ok(chosen.ok, wanted);
      assert.equal(chosen.value.role, 'internet');
    }
  });

  it('names the MTA tiers there are when the one asked for is not one of them', () => {
    const chosen = routeTier(siroe, 'access');
    assert.ok(!chosen.ok);
    assert.equal(
      chosen.error,
      'topology siroe has no MTA tier "access"; its MTA tiers: edge (internet), inbound (inbound), legacy-gw (gateway), outbound (outbound)',
    );
  });
});

describe('readyPod', () => {
  const pod = (name: string, ready: boolean, deleting = false): PodView => ({
    metadata: { name, ...(deleting ? { deletionTimestamp: '2026-12-02T00:00:00Z' } : {}) },
    status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  });

  it('picks the first Ready pod by name, never one being deleted', () => {
    assert.equal(
      readyPod([pod('inbound-mta-2', true), pod('inbound-mta-0', true, true), pod('inbound-mta-1', true)]),
      'inbound-mta-1',
    );
  });

  it('finds none when no pod is Ready', () => {
    assert.equal(readyPod([pod('inbound-mta-0', false), { metadata: { name: 'inbound-mta-1' } }]), undefined);
  });
});

describe('routeExecArgs', () => {
  it("runs the tier's own `mta route` in its container, with its config at the default path", () => {
    const inbound = routeTier(siroe);
    assert.ok(inbound.ok);
    assert.deepEqual(routeExecArgs(inbound.value, 'mail', 'inbound-mta-0', 'alice@siroe.example', true), [
      '-n',
      'mail',
      'exec',
      'inbound-mta-0',
      '-c',
      'mta',
      '--',
      'node',
      'images/mta/main.js',
      'route',
      'alice@siroe.example',
      '--json',
    ]);
  });
});
