// The operator's status as GitOps tools read it, on live objects of a real API server: Flux and kpt
// through the kstatus library itself, Argo CD through our health check (docs/gitops/) in Lua 5.1.
// A converging site is InProgress / Progressing with the operator's own message; an invalid spec is
// Failed / Degraded at once (not a wait until the tool's timeout); a paused site is Suspended; a
// relay waiting for its topology is InProgress / Progressing. Live Ready tiers need pods that run
// (the end-to-end suite, on the real node); here the operator's conditions for ready tiers are
// computed by its own status function and read by both tools.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import { applyManifests, createTestNamespace } from '../control-plane/index.ts';
import { siteConditions, type TierState } from '../../operator/src/reconcile/status.ts';
import { renderSite } from '../../operator/src/render/render.ts';
import { loadExample } from '../../operator/src/render/test-support.ts';
import { argoHealth } from './argocd-health.ts';
import { kstatus, kstatusBinary } from './kstatus/kstatus.ts';
import { admin, installCrds, liveWhen, ref } from './live-objects.ts';
import { runExampleSite } from '../operator/example-site.ts';

type WithConditions = KubernetesObject & { status?: { conditions?: { type: string; reason: string }[] } };
const reasonOf = (o: WithConditions, type: string) =>
  o.status?.conditions?.find((c) => c.type === type)?.reason;
/** Waits until the object's condition `type` has `reason`, and gives the object back. */
const reported = (description: string, o: KubernetesObject, type: string, reason: string) =>
  liveWhen<WithConditions>(description, o, (live) => reasonOf(live, type) === reason);

describe('status as GitOps tools read it', () => {
  before(async () => {
    await installCrds();
    await kstatusBinary();
  });

  it('converging, paused, invalid, and a relay without topology', async (t) => {
    const namespace = await createTestNamespace(t);
    const objects = await runExampleSite(t, admin, namespace);
    const topology = ref('MessagingTopology', namespace, 'small');
    const converging = await reported('the topology reconciled', topology, 'Ready', 'TiersNotReady');
    const [site] = await kstatus([converging]);
    assert.equal(site?.status, 'InProgress');
    assert.match(site?.message ?? '', /^Waiting for .*ready\.$/);
    const argoConverging = await argoHealth(converging);
    assert.equal(argoConverging.status, 'Progressing');
    assert.equal(argoConverging.message, site?.message);

    await applyManifests(
      admin,
      [
        {
          ...objects[0]!,
          metadata: { ...objects[0]!.metadata, annotations: { 'mtopo.dev/paused': 'true' } },
        },
      ],
      { fieldManager: 'kubectl' },
    );
    const paused = await reported('the pause reported', topology, 'Progressing', 'Paused');
    assert.equal((await argoHealth(paused)).status, 'Suspended');

    const broken = structuredClone(objects[0]!) as KubernetesObject & {
      spec: { network: { clientZones: { namespaceSelector?: unknown }[] } };
    };
    broken.spec.network.clientZones[0]!.namespaceSelector = { matchLabels: { 'Dept Name': 'x' } };
    await applyManifests(admin, [broken], { fieldManager: 'kubectl' });
    const invalid = await reported('the invalid spec reported', topology, 'Ready', 'InvalidSpec');
    const [failed] = await kstatus([invalid]);
    assert.equal(failed?.status, 'Failed');
    assert.match(failed?.message ?? '', /Dept Name: must be a label key/);
    const argoInvalid = await argoHealth(invalid);
    assert.equal(argoInvalid.status, 'Degraded');
    assert.match(argoInvalid.message, /Dept Name: must be a label key/);

    const relay = { ...objects.find((o) => o.kind === 'MTARelay')! };
    const orphan = {
      ...relay,
      metadata: { name: 'stray', namespace },
      spec: { ...(relay as { spec: object }).spec, topologyRef: { name: 'nowhere' } },
    };
    await applyManifests(admin, [orphan], { fieldManager: 'kubectl' });
    const waiting = await reported('the stray relay reported', orphan, 'Ready', 'TopologyNotFound');
    const [stray] = await kstatus([waiting]);
    assert.equal(stray?.status, 'InProgress', 'its topology may be applied next: waiting, not failed');
    assert.equal((await argoHealth(waiting)).status, 'Progressing');
  });

  it('Current / Healthy for the conditions of ready tiers, Progressing for a generation not yet seen', async () => {
    const { site } = renderSite(loadExample('minimal'));
    const ready: TierState = {
      tier: site.store,
      replicas: 1,
      readyReplicas: 1,
      ready: true,
      rollingOut: false,
      addresses: [],
    };
    const object = (generation: number) => ({
      apiVersion: 'mtopo.dev/v1alpha1',
      kind: 'MessagingTopology',
      metadata: { name: 'small', namespace: 'mail', generation },
      status: {
        observedGeneration: 4,
        conditions: siteConditions([ready], [], [], 4).map((c) => ({
          ...c,
          lastTransitionTime: '2026-12-01T00:00:00Z',
        })),
      },
    });
    const [current, behind] = await kstatus([object(4), object(5)]);
    assert.equal(current?.status, 'Current');
    assert.equal(behind?.status, 'InProgress');
    assert.deepEqual(await argoHealth(object(4)), {
      status: 'Healthy',
      message: 'The small-store tier is ready.',
    });
    assert.equal((await argoHealth(object(5))).status, 'Progressing');
  });
});
