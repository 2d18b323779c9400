// The operator's status as Flux and other kstatus users read it, with the kstatus library itself,
// on live objects of a real API server: InProgress while a site converges (with the operator's own
// message), Failed at once for an invalid spec (not a wait until the tool's timeout), InProgress
// for a relay waiting for its topology. Current needs Ready tiers, so pods that run: the
// end-to-end suite checks it on the real node.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import { pino } from 'pino';
import { KubeClient } from '../../operator/src/reconcile/kube/rest-client.ts';
import { operatorMetrics } from '../../operator/src/reconcile/metrics.ts';
import { Operator } from '../../operator/src/reconcile/operator.ts';
import { REPO_ROOT } from '../../operator/src/render/test-support.ts';
import {
  applyManifests,
  createTestNamespace,
  installCrdsFrom,
  testKubeConfig,
  waitFor,
} from '../control-plane/index.ts';
import { kstatus, kstatusBinary } from './kstatus.ts';

const admin = testKubeConfig();
const client = new KubeClient(admin, { fieldManager: 'test-user' });

function exampleIn(namespace: string): KubernetesObject[] {
  const text = readFileSync(`${REPO_ROOT}examples/minimal.yaml`, 'utf8');
  return (loadAll(text) as KubernetesObject[]).map((o) => ({ ...o, metadata: { ...o.metadata, namespace } }));
}

type WithConditions = KubernetesObject & { status?: { conditions?: { type: string; reason: string }[] } };
const reasonOf = (o: WithConditions, type: string) =>
  o.status?.conditions?.find((c) => c.type === type)?.reason;

describe('status read by kstatus', () => {
  before(async () => {
    await installCrdsFrom(admin, `${REPO_ROOT}crds`);
    await kstatusBinary();
  });

  it('InProgress while converging, Failed for an invalid spec, InProgress for a relay without topology', async (t) => {
    const namespace = await createTestNamespace(t);
    const operator = new Operator({
      kubeConfig: admin,
      namespace,
      workers: 2,
      resyncMs: 3_600_000,
      fieldManager: 'mtopo-operator',
      leaderElection: { enabled: false },
      log: pino({ level: 'silent' }),
      metrics: operatorMetrics(),
      watch: { backoffBaseMs: 100, backoffMaxMs: 2_000 },
    });
    operator.start();
    t.after(() => operator.stop());
    const objects = exampleIn(namespace);
    await applyManifests(admin, objects, { fieldManager: 'kubectl' });
    const converging = await waitFor('the topology reconciled', async () => {
      const live = (await client.get('MessagingTopology', namespace, 'small')) as WithConditions;
      return reasonOf(live, 'Ready') === 'TiersNotReady' && live;
    });
    const [site] = await kstatus([converging]);
    assert.equal(site?.status, 'InProgress');
    assert.match(site?.message ?? '', /^Waiting for .*ready\.$/);

    const broken = structuredClone(objects[0]!) as KubernetesObject & {
      spec: { network: { clientZones: { namespaceSelector?: unknown }[] } };
    };
    broken.spec.network.clientZones[0]!.namespaceSelector = { matchLabels: { 'Dept Name': 'x' } };
    await applyManifests(admin, [broken], { fieldManager: 'kubectl' });
    const invalid = await waitFor('the invalid spec reported', async () => {
      const live = (await client.get('MessagingTopology', namespace, 'small')) as WithConditions;
      return reasonOf(live, 'Ready') === 'InvalidSpec' && live;
    });
    const [failed] = await kstatus([invalid]);
    assert.equal(failed?.status, 'Failed');
    assert.match(failed?.message ?? '', /Dept Name: must be a label key/);

    const relay = { ...objects.find((o) => o.kind === 'MTARelay')! };
    const orphan = {
      ...relay,
      metadata: { name: 'stray', namespace },
      spec: { ...(relay as { spec: object }).spec, topologyRef: { name: 'nowhere' } },
    };
    await applyManifests(admin, [orphan], { fieldManager: 'kubectl' });
    const waiting = await waitFor('the stray relay reported', async () => {
      const live = (await client.get('MTARelay', namespace, 'stray')) as WithConditions;
      return reasonOf(live, 'Ready') === 'TopologyNotFound' && live;
    });
    const [stray] = await kstatus([waiting]);
    assert.equal(stray?.status, 'InProgress', 'its topology may be applied next: waiting, not failed');
  });
});
