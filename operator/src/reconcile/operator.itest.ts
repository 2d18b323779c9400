// The operator against a real kube-apiserver and controller-manager (testing/control-plane): every child is
// created as rendered, kept as declared, pruned when no longer wanted, and status tells the user
// how the site is doing. Each test runs its own operator on its own namespace.
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import {
  applyManifests,
  clientWithRole,
  createTestNamespace,
  kubectl,
  testKubeConfig,
  waitFor,
  installCrdsFrom,
} from '../../../testing/control-plane/index.ts';
import { renderSite } from '../render/render.ts';
import { loadManifest, REPO_ROOT } from '../render/test-support.ts';
import { KubeClient } from './kube/rest-client.ts';
import { operatorMetrics } from './metrics.ts';
import { Operator } from './operator.ts';
import { LEADER_ELECTION_RULES, OPERATOR_RULES } from './rbac.ts';
import { exampleIn, testOperatorOptions } from '../../../testing/operator/example-site.ts';

const admin = testKubeConfig();
const log = pino({ level: process.env.MTOPO_TEST_LOG ?? 'silent' });
const WRITE_VERBS = new Set(['apply', 'apply-status', 'create', 'patch', 'update', 'delete']);

function startOperator(
  t: TestContext,
  namespace: string,
  options: { kubeConfig?: KubeConfig; leaderElection?: boolean; identity?: string } = {},
) {
  const metrics = operatorMetrics();
  const operator = new Operator(
    testOperatorOptions(options.kubeConfig ?? admin, namespace, metrics, {
      leaderElection: options.leaderElection
        ? {
            enabled: true,
            namespace,
            name: 'mtopo-operator',
            identity: options.identity ?? 'a',
            leaseDurationSeconds: 4,
            renewIntervalMs: 500,
          }
        : { enabled: false },
      log,
    }),
  );
  operator.start();
  t.after(() => operator.stop());
  const byLabel = async () =>
    Object.fromEntries(
      (await metrics.apiRequests.get()).values.map((v) => [`${v.labels.verb} ${v.labels.kind}`, v.value]),
    );
  const requests = async (verbs?: Set<string>) => {
    const values = (await metrics.apiRequests.get()).values;
    return values
      .filter((v) => !verbs || verbs.has(String(v.labels.verb)))
      .reduce((sum, v) => sum + v.value, 0);
  };
  /** Site reconciles (counted under the topology's kind) and renders so far. */
  const reconciles = async () =>
    (await metrics.reconciles.get()).values
      .filter((v) => v.labels.kind === 'MessagingTopology')
      .reduce((sum, v) => sum + v.value, 0);
  const renders = async () => (await metrics.renders.get()).values[0]?.value ?? 0;
  return { operator, metrics, writes: () => requests(WRITE_VERBS), requests, byLabel, reconciles, renders };
}

const client = new KubeClient(admin, { fieldManager: 'test-user' });
const get = (kind: string, namespace: string, name: string) => client.get(kind, namespace, name);
type Status = {
  status?: {
    observedGeneration?: number;
    conditions?: { type: string; status: string; reason: string; message: string }[];
    tiers?: unknown[];
  };
};

async function converged(namespace: string, objects: KubernetesObject[], generation = 1) {
  const desired = renderSite(
    loadManifest(objects.map((o) => `---\n${JSON.stringify(o)}`).join('\n')),
  ).objects;
  await waitFor(
    `${desired.length} children and status of generation ${generation}`,
    async () => {
      for (const o of desired) if (!(await get(o.kind!, namespace, o.metadata!.name!))) return false;
      const topology = (await get('MessagingTopology', namespace, 'small')) as Status | undefined;
      return topology?.status?.observedGeneration === generation;
    },
    { timeoutMs: 60_000 },
  );
  return desired;
}

/**
 * Waits for the controller-manager's status updates (ReplicaSets, StatefulSets) to settle and be
 * reflected: a status that changes is something to do. Settled means no write for 4.5 s.
 */
/** A ConfigMap that carries the operator's labels and the topology "small" as its controller, as
 * an older version of the operator might have left it: one the operator must prune. */
async function ownedLeftover(namespace: string) {
  const topology = (await get('MessagingTopology', namespace, 'small'))!;
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'small-leftover',
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'mtopo', 'mtopo.dev/topology': 'small' },
      ownerReferences: [
        {
          apiVersion: 'mtopo.dev/v1alpha1',
          kind: 'MessagingTopology',
          name: 'small',
          uid: topology.metadata!.uid!,
          controller: true,
        },
      ],
    },
  };
}

async function settled(writes: () => Promise<number>): Promise<void> {
  let previous = -1;
  let quietChecks = 0;
  await waitFor(
    'writes to settle',
    async () => {
      const now = await writes();
      quietChecks = now === previous ? quietChecks + 1 : 0;
      previous = now;
      return quietChecks >= 3;
    },
    { intervalMs: 1500, timeoutMs: 45_000 },
  );
}

describe('the operator on a real API server', () => {
  before(async () => {
    await installCrdsFrom(admin, `${REPO_ROOT}crds`);
  });
  after(() => {});

  it('creates every child as rendered, owned by its resource, and reports status', async (t) => {
    const namespace = await createTestNamespace(t);
    const objects = exampleIn(namespace);
    startOperator(t, namespace);
    await applyManifests(admin, objects, { fieldManager: 'kubectl' });
    const desired = await converged(namespace, objects);
    const live = (await get('StatefulSet', namespace, 'edge-mta'))!;
    assert.equal(live.metadata?.ownerReferences?.[0]?.kind, 'MTARelay');
    assert.equal(live.metadata?.ownerReferences?.[0]?.name, 'edge');
    assert.equal(
      (await get('StatefulSet', namespace, 'small-store'))!.metadata?.ownerReferences?.[0]?.kind,
      'MessagingTopology',
    );
    assert.ok(await get('Secret', namespace, 'small-internal'), 'the internal Secret is generated');
    const topology = (await get('MessagingTopology', namespace, 'small')) as Status;
    const ready = topology.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'False', 'no node runs the pods here');
    assert.equal(ready?.reason, 'TiersNotReady');
    assert.match(ready?.message ?? '', /small-store 0\/1 ready/);
    assert.equal(topology.status?.tiers?.length, 5);
    const relay = (await get('MTARelay', namespace, 'edge')) as Status & { status?: { ready?: string } };
    assert.equal(relay.status?.ready, '0/1');
    assert.ok(desired.length > 30);
    const table = await kubectl(['get', 'mtopo,mta,mmp', '-n', namespace]);
    assert.match(table.stdout, /small\s+small.example\s+1\s+0\/5\s+False\s+TiersNotReady/);
  });

  it('prints several domains the way kubectl prints a list, not as JSON', async (t) => {
    const namespace = await createTestNamespace(t);
    const [topology] = exampleIn(namespace) as [KubernetesObject & { spec: { domains: string[] } }];
    topology.spec.domains = ['small.example', 'west.small.example'];
    startOperator(t, namespace);
    await applyManifests(admin, [topology], { fieldManager: 'kubectl' });
    await waitFor('the operator reported the topology', async () => {
      const table = await kubectl(['get', 'mtopo', '-n', namespace]);
      return /^small\s+small\.example,west\.small\.example\s/m.test(table.stdout);
    });
  });

  it('passes watch.timeoutSeconds to its watches', async (t) => {
    const namespace = await createTestNamespace(t);
    const metrics = operatorMetrics();
    const operator = new Operator({
      kubeConfig: admin,
      namespace,
      workers: 1,
      resyncMs: 3_600_000,
      fieldManager: 'mtopo-operator',
      leaderElection: { enabled: false },
      log,
      metrics,
      watch: { timeoutSeconds: 1 },
    });
    operator.start();
    t.after(() => operator.stop());
    // The server ends each watch after a second; the default (300 s) would end none in this test.
    await waitFor(
      'a watch ended by the server and resumed',
      async () =>
        (await metrics.watchRestarts.get()).values.some(
          (v) => v.labels.kind === 'MessagingTopology' && v.labels.reason === 'closed' && v.value >= 2,
        ),
      { timeoutMs: 30_000 },
    );
  });

  it('counts reconciles by the kind of each resource, a relay without topology as MTARelay', async (t) => {
    const namespace = await createTestNamespace(t);
    const objects = exampleIn(namespace);
    const { metrics } = startOperator(t, namespace);
    const count = async (kind: string, result: string) =>
      (await metrics.reconciles.get()).values.find(
        (v) => v.labels.kind === kind && v.labels.result === result,
      )?.value ?? 0;
    await applyManifests(admin, objects.slice(1), { fieldManager: 'kubectl' });
    await waitFor('relays and the pool counted as orphaned', async () => {
      return (await count('MTARelay', 'orphaned')) >= 3 && (await count('MMPPool', 'orphaned')) >= 1;
    });
    assert.equal(await count('MessagingTopology', 'done'), 0);
    await applyManifests(admin, objects.slice(0, 1), { fieldManager: 'kubectl' });
    await waitFor('each kind counted as done', async () => {
      return (
        (await count('MessagingTopology', 'done')) >= 1 &&
        (await count('MTARelay', 'done')) >= 3 &&
        (await count('MMPPool', 'done')) >= 1
      );
    });
  });

  it('follows spec changes and observedGeneration', async (t) => {
    const namespace = await createTestNamespace(t);
    const objects = exampleIn(namespace);
    startOperator(t, namespace);
    await applyManifests(admin, objects, { fieldManager: 'kubectl' });
    await converged(namespace, objects);
    const topology = structuredClone(objects[0]!) as KubernetesObject & {
      spec: { stores?: { replicas?: number } };
    };
    topology.spec.stores = { replicas: 3 };
    await applyManifests(admin, [topology], { fieldManager: 'kubectl' });
    await converged(namespace, [topology, ...objects.slice(1)], 2);
    await waitFor('the store StatefulSet scaled to 3', async () => {
      const set = (await get('StatefulSet', namespace, 'small-store')) as
        { spec?: { replicas?: number } } | undefined;
      return set?.spec?.replicas === 3;
    });
  });

  it('recreates a deleted child and reverts a hand edit', async (t) => {
    const namespace = await createTestNamespace(t);
    const objects = exampleIn(namespace);
    startOperator(t, namespace);
    await applyManifests(admin, objects, { fieldManager: 'kubectl' });
    await converged(namespace, objects);
    const before = (await get('ConfigMap', namespace, 'inbound-mta-config'))!;
    await client.delete('ConfigMap', namespace, 'inbound-mta-config');
    await waitFor('the ConfigMap recreated', async () => {
      const now = await get('ConfigMap', namespace, 'inbound-mta-config');
      return now && now.metadata?.uid !== before.metadata?.uid;
    });
    await client.merge('Service', namespace, 'edge-mta', { spec: { externalTrafficPolicy: 'Cluster' } });
    await waitFor('the hand edit reverted', async () => {
      const svc = (await get('Service', namespace, 'edge-mta')) as {
        spec?: { externalTrafficPolicy?: string };
      };
      return svc.spec?.externalTrafficPolicy === 'Local';
    });
  });

  it('repairs a child it watches as metadata only: deleted, edited, a field or an owner removed', async (t) => {
    // ConfigMaps, NetworkPolicies, ServiceAccounts and budgets reach the operator as metadata only
    // (cached-child.ts STATUS_KINDS): their spec and data are never in its cache.
    const namespace = await createTestNamespace(t);
    const objects = exampleIn(namespace);
    const { writes } = startOperator(t, namespace);
    await applyManifests(admin, objects, { fieldManager: 'kubectl' });
    await converged(namespace, objects);
    await settled(writes);
    type Child = KubernetesObject & { data?: Record<string, string>; spec?: { policyTypes?: string[] } };
    const child = async (kind: string, name: string) =>
      (await get(kind, namespace, name)) as Child | undefined;
    const budget = (await child('PodDisruptionBudget', 'edge-mta'))!;
    await client.delete('PodDisruptionBudget', namespace, 'edge-mta');
    await waitFor('the budget recreated', async () => {
      const now = await child('PodDisruptionBudget', 'edge-mta');
      return now && now.metadata?.uid !== budget.metadata?.uid;
    });

    const config = 'inbound-mta-config';
    const rendered = (await child('ConfigMap', config))!.data;
    await client.merge('ConfigMap', namespace, config, { data: { 'config.json': '{}' } });
    await waitFor('the edited ConfigMap restored', async () => {
      const now = await child('ConfigMap', config);
      return JSON.stringify(now?.data) === JSON.stringify(rendered) && now?.metadata?.resourceVersion;
    });
    // A removal leaves no other manager's name in managedFields, only ours without the field.
    await client.merge('ConfigMap', namespace, config, { data: { 'config.json': null } });
    await waitFor('the removed key restored', async () => {
      const now = await child('ConfigMap', config);
      return JSON.stringify(now?.data) === JSON.stringify(rendered);
    });

    await client.merge('NetworkPolicy', namespace, 'edge-mta', { spec: { policyTypes: ['Ingress'] } });
    await waitFor('the edited policy restored', async () => {
      const now = await child('NetworkPolicy', 'edge-mta');
      return JSON.stringify(now?.spec?.policyTypes) === JSON.stringify(['Ingress', 'Egress']);
    });
    // An owner reference removed changes neither a generation nor a label: only our field set.
    for (const kind of ['NetworkPolicy', 'ServiceAccount']) {
      await client.merge(kind, namespace, 'edge-mta', { metadata: { ownerReferences: null } });
      await waitFor(`the ${kind}'s owner reference restored`, async () => {
        const now = await child(kind, 'edge-mta');
        return now?.metadata?.ownerReferences?.[0]?.kind === 'MTARelay';
      });
    }
  });

  it('removes the children of a deleted relay and prunes what it owns but no longer wants', async (t) => {
    const namespace = await createTestNamespace(t);
    const objects = exampleIn(namespace);
    startOperator(t, namespace);
    await applyManifests(admin, objects, { fieldManager: 'kubectl' });
    await converged(namespace, objects);
    const leftover = { ...(await ownedLeftover(namespace)), data: { from: 'an older version' } };
    const unowned = {
      ...leftover,
      metadata: { ...leftover.metadata, name: 'users-own', ownerReferences: [] },
    };
    await applyManifests(admin, [leftover, unowned], { fieldManager: 'someone' });
    await waitFor(
      'the owned leftover pruned',
      async () => !(await get('ConfigMap', namespace, 'small-leftover')),
    );
    assert.ok(
      await get('ConfigMap', namespace, 'users-own'),
      'an object without our owner reference is never pruned',
    );

    await client.delete('MMPPool', namespace, 'access');
    await waitFor(
      'the pool children gone',
      async () => {
        for (const [kind, name] of [
          ['Deployment', 'access-mmp'],
          ['Service', 'access-mmp'],
          ['NetworkPolicy', 'access-mmp'],
          ['ConfigMap', 'access-mmp-config'],
        ]) {
          if (await get(kind!, namespace, name!)) return false;
        }
        return true;
      },
      { timeoutMs: 60_000 },
    );
    const status = (await get('MessagingTopology', namespace, 'small')) as Status;
    await waitFor(
      'the topology counts four tiers',
      async () =>
        ((await get('MessagingTopology', namespace, 'small')) as Status).status?.tiers?.length === 4,
    );
    assert.ok(status);
  });

  it('prunes a leftover that appears while the site itself is unchanged (nothing rendered)', async (t) => {
    const namespace = await createTestNamespace(t);
    const objects = exampleIn(namespace);
    const { metrics, writes } = startOperator(t, namespace);
    await applyManifests(admin, objects, { fieldManager: 'kubectl' });
    await converged(namespace, objects);
    await settled(writes);
    const renders = async () => (await metrics.renders.get()).values[0]?.value ?? 0;
    const rendersBefore = await renders();
    await applyManifests(admin, [await ownedLeftover(namespace)], { fieldManager: 'someone' });
    await waitFor('the leftover pruned', async () => !(await get('ConfigMap', namespace, 'small-leftover')));
    assert.equal((await renders()) - rendersBefore, 0, 'pruned without rendering the unchanged site');
  });

  it('reports an invalid spec plainly and deletes nothing', async (t) => {
    const namespace = await createTestNamespace(t);
    const objects = exampleIn(namespace);
    startOperator(t, namespace);
    await applyManifests(admin, objects, { fieldManager: 'kubectl' });
    await converged(namespace, objects);
    const count = async () =>
      (await client.list('ConfigMap', namespace, { labelSelector: 'mtopo.dev/topology=small' })).items.length;
    const before = await count();
    const topology = structuredClone(objects[0]!) as KubernetesObject & {
      spec: { network: { clientZones: { name: string; namespaceSelector?: unknown }[] } };
    };
    topology.spec.network.clientZones[0]!.namespaceSelector = { matchLabels: { 'Dept Name': 'x' } };
    await applyManifests(admin, [topology], { fieldManager: 'kubectl' });
    const ready = await waitFor('Ready=False InvalidSpec', async () => {
      const live = (await get('MessagingTopology', namespace, 'small')) as Status;
      const condition = live.status?.conditions?.find((c) => c.type === 'Ready');
      return condition?.reason === 'InvalidSpec' && live.status?.observedGeneration === 2 && condition;
    });
    assert.match(
      ready.message,
      /spec\.network\.clientZones\[0\]\.namespaceSelector\.matchLabels\.Dept Name: must be a label key such as "dept" or "example.com\/dept"/,
    );
    assert.equal(await count(), before, 'nothing was deleted');
    assert.ok(await get('StatefulSet', namespace, 'small-store'));
    const waited = await kubectl([
      'wait',
      '--for=condition=Ready=False',
      'mtopo/small',
      '-n',
      namespace,
      '--timeout=10s',
    ]);
    assert.equal(waited.exitCode, 0, waited.stderr);
  });

  it('changes nothing while paused, and catches up when resumed', async (t) => {
    const namespace = await createTestNamespace(t);
    const objects = exampleIn(namespace);
    const { metrics } = startOperator(t, namespace);
    const pausedReconciles = async () =>
      (await metrics.reconciles.get()).values.find((v) => v.labels.result === 'paused')?.value ?? 0;
    await applyManifests(admin, objects, { fieldManager: 'kubectl' });
    await converged(namespace, objects);
    await client.merge('MessagingTopology', namespace, 'small', {
      metadata: { annotations: { 'mtopo.dev/paused': 'true' } },
    });
    await waitFor('Progressing=False Paused', async () => {
      const live = (await get('MessagingTopology', namespace, 'small')) as Status;
      return live.status?.conditions?.some((c) => c.type === 'Progressing' && c.reason === 'Paused');
    });
    const pausedBefore = await pausedReconciles();
    await client.delete('ConfigMap', namespace, 'small-store-config');
    // The delete's watch event reaches the operator, which reconciles and sees the pause.
    await waitFor('a reconcile after the delete', async () => (await pausedReconciles()) > pausedBefore);
    assert.equal(
      await get('ConfigMap', namespace, 'small-store-config'),
      undefined,
      'nothing recreated while paused',
    );
    await client.merge('MessagingTopology', namespace, 'small', {
      metadata: { annotations: { 'mtopo.dev/paused': null } },
    });
    await waitFor(
      'recreated once resumed',
      async () => await get('ConfigMap', namespace, 'small-store-config'),
    );
  });

  it('makes zero writes and renders nothing on a resync with nothing to do', async (t) => {
    const namespace = await createTestNamespace(t);
    const objects = exampleIn(namespace);
    const { operator, writes, byLabel, reconciles, renders } = startOperator(t, namespace);
    await applyManifests(admin, objects, { fieldManager: 'kubectl' });
    await converged(namespace, objects);
    await settled(writes);
    const writesBefore = await writes();
    const labelsBefore = await byLabel();
    const reconcilesBefore = await reconciles();
    const rendersBefore = await renders();
    operator.resync();
    await waitFor('the resync reconciled', async () => (await reconciles()) > reconcilesBefore);
    await waitFor('the queue drained', () => operator.queue.depth === 0);
    assert.equal((await renders()) - rendersBefore, 0, 'an unchanged site is not rendered again');
    const labelsAfter = await byLabel();
    const changed = Object.entries(labelsAfter).filter(([k, v]) => v !== (labelsBefore[k] ?? 0));
    assert.equal(
      (await writes()) - writesBefore,
      0,
      `a resync with nothing to do writes nothing: ${JSON.stringify(changed)}`,
    );
  });

  it('renders nothing for a status write on a child, but reverts a label change', async (t) => {
    const namespace = await createTestNamespace(t);
    const objects = exampleIn(namespace);
    const { operator, writes, reconciles, renders } = startOperator(t, namespace);
    await applyManifests(admin, objects, { fieldManager: 'kubectl' });
    await converged(namespace, objects);
    await settled(writes);
    const rendersBefore = await renders();
    const reconcilesBefore = await reconciles();
    // What the controller-manager does all through a rollout: a write to the status subresource,
    // which bumps the resourceVersion and leaves generation, labels and annotations alone.
    await client.applyStatus({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'edge-mta', namespace },
      status: { replicas: 1, collisionCount: 7 },
    } as KubernetesObject);
    await waitFor('the status write reconciled', async () => (await reconciles()) > reconcilesBefore);
    await waitFor('the queue drained', () => operator.queue.depth === 0);
    assert.equal((await renders()) - rendersBefore, 0, 'a status write is no reason to render');
    // A label change leaves the generation as it was; it must still be seen and reverted.
    await client.merge('StatefulSet', namespace, 'edge-mta', {
      metadata: { labels: { 'mtopo.dev/zone': 'elsewhere' } },
    });
    await waitFor('the label change reverted', async () => {
      const set = await get('StatefulSet', namespace, 'edge-mta');
      return set?.metadata?.labels?.['mtopo.dev/zone'] !== 'elsewhere';
    });
  });

  it('applies nothing after a restart when every child is as it left them', async (t) => {
    const namespace = await createTestNamespace(t);
    const objects = exampleIn(namespace);
    const first = startOperator(t, namespace);
    await applyManifests(admin, objects, { fieldManager: 'kubectl' });
    await converged(namespace, objects);
    await settled(first.writes);
    await first.operator.stop();
    // A new process remembers nothing of its applies: only the children's stamps tell it.
    const second = startOperator(t, namespace);
    const reconciles = async () =>
      (await second.metrics.reconciles.get()).values.reduce((sum, v) => sum + v.value, 0);
    await waitFor('the restarted operator reconciled', async () => (await reconciles()) > 0);
    await waitFor('the queue drained', () => second.operator.queue.depth === 0);
    const applies = (await second.byLabel()) as Record<string, number>;
    const childApplies = Object.entries(applies).filter(([k, v]) => k.startsWith('apply ') && v > 0);
    assert.deepEqual(childApplies, [], 'no child needed an apply');
  });

  it('reports a relay whose topology is missing, and recovers when it appears', async (t) => {
    const namespace = await createTestNamespace(t);
    const objects = exampleIn(namespace);
    startOperator(t, namespace);
    await applyManifests(admin, objects.slice(1), { fieldManager: 'kubectl' });
    const condition = await waitFor('TopologyNotFound', async () => {
      const relay = (await get('MTARelay', namespace, 'edge')) as Status;
      return relay.status?.conditions?.find((c) => c.type === 'Ready' && c.reason === 'TopologyNotFound');
    });
    assert.match(condition.message, /MessagingTopology "small" does not exist in namespace/);
    await applyManifests(admin, objects.slice(0, 1), { fieldManager: 'kubectl' });
    await converged(namespace, objects);
    await waitFor('the relay reconciled', async () => {
      const relay = (await get('MTARelay', namespace, 'edge')) as Status;
      return relay.status?.conditions?.find((c) => c.type === 'Ready')?.reason === 'TiersNotReady';
    });
  });

  it('lets exactly one of two replicas reconcile, and the other take over', async (t) => {
    const namespace = await createTestNamespace(t);
    const objects = exampleIn(namespace);
    const a = startOperator(t, namespace, { leaderElection: true, identity: 'replica-a' });
    await waitFor('replica a leads', () => a.operator.leading);
    const b = startOperator(t, namespace, { leaderElection: true, identity: 'replica-b' });
    await applyManifests(admin, objects, { fieldManager: 'kubectl' });
    await converged(namespace, objects);
    assert.equal(b.operator.leading, false);
    assert.equal(await b.writes(), 0, 'the standby wrote nothing');
    assert.ok((await a.writes()) > 0);
    await a.operator.stop();
    await waitFor('replica b takes over', () => b.operator.leading, { timeoutMs: 15_000 });
    await client.delete('ConfigMap', namespace, 'edge-mta-config');
    await waitFor(
      'b recreates a deleted child',
      async () => await get('ConfigMap', namespace, 'edge-mta-config'),
    );
  });

  it('works as a ServiceAccount with exactly its RBAC', async (t) => {
    const namespace = await createTestNamespace(t);
    const objects = exampleIn(namespace);
    const role = await clientWithRole(t, { namespace, rules: [...OPERATOR_RULES, ...LEADER_ELECTION_RULES] });
    startOperator(t, namespace, { kubeConfig: role.kubeConfig, leaderElection: true });
    await applyManifests(admin, objects, { fieldManager: 'kubectl' });
    await converged(namespace, objects);
    const topology = (await get('MessagingTopology', namespace, 'small')) as Status;
    assert.ok(
      !topology.status?.conditions?.some((c) => c.reason === 'ApplyFailed'),
      JSON.stringify(topology.status),
    );
  });
});
