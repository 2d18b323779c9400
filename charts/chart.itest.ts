// The operator's Helm chart (charts/mtopo) with the pinned helm and a real API server: it lints,
// every object it renders passes a server-side dry run, its roles hold exactly the rules of
// rbac.ts, its pods pass Pod Security "restricted", and an operator holding nothing but what a real
// `helm install` granted its ServiceAccount converges a site, cluster-wide and in one namespace.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it, type TestContext } from 'node:test';
import {
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  type KubernetesObject,
  type V1Deployment,
  type V1NetworkPolicy,
  type V1Pod,
  type V1PodDisruptionBudget,
  type V1PodSpec,
  type V1PolicyRule,
  type V1RoleBinding,
  type V1Service,
} from '@kubernetes/client-node';
import { load, loadAll } from 'js-yaml';
import { pino } from 'pino';
import { KubeClient } from '../operator/src/reconcile/kube/rest-client.ts';
import { operatorMetrics } from '../operator/src/reconcile/metrics.ts';
import { Operator } from '../operator/src/reconcile/operator.ts';
import { LEADER_ELECTION_RULES, OPERATOR_RULES } from '../operator/src/reconcile/rbac.ts';
import { renderSite } from '../operator/src/render/render.ts';
import { loadManifest } from '../operator/src/render/test-support.ts';
import {
  applyManifests,
  createTestNamespace,
  expectApiError,
  kubectl,
  testKubeconfigPath,
  waitFor,
} from '../testing/control-plane/index.ts';
import { admin, CHART, installChartCrds, REPO_ROOT } from './chart-test-env.ts';
import { ensureHelmBinary, helm, helmTemplate } from '../testing/helm/helm.ts';

const client = new KubeClient(admin, { fieldManager: 'test-user' });
const log = pino({ level: process.env.MTOPO_TEST_LOG ?? 'silent' });

const CRD_INVENTORY = ['messagingtopologies', 'mmppools', 'mtarelays'].map(
  (plural) => `CustomResourceDefinition -/${plural}.mtopo.dev`,
);

type Role = KubernetesObject & { rules?: V1PolicyRule[] };

function find<T extends KubernetesObject>(
  objects: readonly KubernetesObject[],
  kind: string,
  name: string,
): T {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
  assert.ok(found, `no ${kind} ${name} in ${objects.map((o) => `${o.kind}/${o.metadata?.name}`).join(', ')}`);
  return found as T;
}

const inventory = (objects: readonly KubernetesObject[]) =>
  objects.map((o) => `${o.kind} ${o.metadata?.namespace ?? '-'}/${o.metadata?.name}`).sort();

function operatorContainer(deployment: V1Deployment) {
  const container = deployment.spec?.template.spec?.containers.find((c) => c.name === 'operator');
  assert.ok(container, 'the Deployment runs an "operator" container');
  return container;
}

function exampleIn(namespace: string): KubernetesObject[] {
  const text = readFileSync(`${REPO_ROOT}examples/minimal.yaml`, 'utf8');
  return (loadAll(text) as KubernetesObject[]).map((o) => ({ ...o, metadata: { ...o.metadata, namespace } }));
}

/** Every child of the example exists and the topology's status is of generation 1. */
async function converged(namespace: string, objects: readonly KubernetesObject[]): Promise<void> {
  const desired = renderSite(
    loadManifest(objects.map((o) => `---\n${JSON.stringify(o)}`).join('\n')),
  ).objects;
  await waitFor(
    `${desired.length} children and the status of generation 1`,
    async () => {
      for (const o of desired) if (!(await client.get(o.kind!, namespace, o.metadata!.name!))) return false;
      const topology = (await client.get('MessagingTopology', namespace, 'small')) as
        { status?: { observedGeneration?: number } } | undefined;
      return topology?.status?.observedGeneration === 1;
    },
    { timeoutMs: 60_000 },
  );
}

// A cold build takes minutes (`make test-integration` does it first, through `make helm-bin`):
// never inside a test's timeout.
before(() => ensureHelmBinary(), { timeout: 15 * 60_000 });

describe('helm lint', () => {
  it('passes with the default values, a watched namespace and one replica', async () => {
    for (const set of [[], ['--set', 'watchNamespace=mail'], ['--set', 'replicas=1']]) {
      const { stdout } = await helm(['lint', '--strict', CHART, ...set]);
      assert.match(stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/, set.join(' '));
    }
  });

  it('refuses replicas without leader election, and values the chart does not know', async () => {
    const unled = await helm(['template', 'ops', CHART, '--set', 'replicas=2,leaderElection.enabled=false'], {
      check: false,
    });
    assert.notEqual(unled.exitCode, 0);
    assert.match(unled.stderr, /leaderElection.enabled=false needs replicas=1/);
    const typo = await helm(['template', 'ops', CHART, '--set', 'replica=3'], { check: false });
    assert.notEqual(typo.exitCode, 0);
    assert.match(typo.stderr, /additional properties 'replica' not allowed/);
  });
});

describe('values.schema.json', () => {
  it('refuses a wrong value with a message naming it', async () => {
    const cases: [string[], RegExp][] = [
      [['--set', 'networkPolicy.enabled=maybe'], /'\/networkPolicy\/enabled': got string, want boolean/],
      [['--set', 'tests.timeout=soon'], /'\/tests\/timeout'/],
      [['--set', 'metrics.monitor.kind=Probe'], /'\/metrics\/monitor\/kind': value must be one of/],
      [['--set', 'crds.keeps=true'], /'\/crds': additional properties 'keeps' not allowed/],
      [['--set', 'networkPolicy.apiServer.cidrs[0]=10.0.0.1'], /'\/networkPolicy\/apiServer\/cidrs\/0'/],
      [['--set', 'podLabels.team=7'], /'\/podLabels\/team': got number, want string/],
      [['--set', 'resources.limit.memory=1Gi'], /'\/resources': additional properties 'limit' not allowed/],
    ];
    for (const [set, message] of cases) {
      const refused = await helm(['template', 'ops', CHART, ...set], { check: false });
      assert.notEqual(refused.exitCode, 0, set.join(' '));
      assert.match(refused.stderr, message, set.join(' '));
    }
  });

  it('covers every value of values.yaml', () => {
    type Schema = { properties?: Record<string, Schema>; additionalProperties?: unknown; type?: string };
    const schema = JSON.parse(readFileSync(`${CHART}/values.schema.json`, 'utf8')) as Schema;
    const values = load(readFileSync(`${CHART}/values.yaml`, 'utf8')) as Record<string, unknown>;
    const uncovered: string[] = [];
    const walk = (value: unknown, node: Schema | undefined, at: string): void => {
      if (node === undefined) return void uncovered.push(at);
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
      // A free-form map (podLabels, securityContext): its entries are the user's.
      if (node.properties === undefined) return;
      for (const [key, child] of Object.entries(value)) walk(child, node.properties[key], `${at}.${key}`);
    };
    walk(values, schema, 'values');
    assert.deepEqual(uncovered, []);
    assert.equal(schema.additionalProperties, false);
  });
});

describe("the operator's NetworkPolicy and monitors", () => {
  it('lets the operator reach the API server only and be reached on its health port only', async (t) => {
    const namespace = await createTestNamespace(t);
    const objects = await helmTemplate(CHART, { releaseName: 'ops', namespace });
    const policy = find<V1NetworkPolicy>(objects, 'NetworkPolicy', 'ops-mtopo');
    const deployment = find<V1Deployment>(objects, 'Deployment', 'ops-mtopo');
    assert.deepEqual(policy.spec?.podSelector?.matchLabels, deployment.spec?.selector.matchLabels);
    assert.deepEqual(policy.spec?.policyTypes, ['Ingress', 'Egress']);
    assert.deepEqual(policy.spec?.ingress, [{ ports: [{ port: 'health', protocol: 'TCP' }] }]);
    // helm template looks nothing up: any address, on the API server's usual ports; no DNS (port 53).
    assert.deepEqual(policy.spec?.egress, [
      {
        ports: [
          { port: 443, protocol: 'TCP' },
          { port: 6443, protocol: 'TCP' },
        ],
      },
    ]);
    await applyManifests(admin, [policy], { dryRun: true });

    const pinned = find<V1NetworkPolicy>(
      await helmTemplate(CHART, {
        releaseName: 'ops',
        namespace,
        values: {
          networkPolicy: {
            apiServer: { cidrs: ['10.96.0.1/32'], ports: [6443] },
            metricsFrom: [
              { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
            ],
          },
        },
      }),
      'NetworkPolicy',
      'ops-mtopo',
    );
    assert.deepEqual(pinned.spec?.egress, [
      { ports: [{ port: 6443, protocol: 'TCP' }], to: [{ ipBlock: { cidr: '10.96.0.1/32' } }] },
    ]);
    assert.deepEqual((pinned.spec?.ingress?.[0] as { from?: unknown } | undefined)?.from, [
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
    ]);
    await applyManifests(admin, [pinned], { dryRun: true });
    const off = await helmTemplate(CHART, {
      releaseName: 'ops',
      namespace,
      values: { networkPolicy: { enabled: false } },
    });
    assert.ok(!off.some((o) => o.kind === 'NetworkPolicy'));
  });

  it('renders a ServiceMonitor or PodMonitor only where monitoring.coreos.com/v1 is served', async () => {
    const namespace = 'ops';
    const kinds = async (apiVersions: string[], values: Record<string, unknown> = {}) =>
      (await helmTemplate(CHART, { releaseName: 'ops', namespace, apiVersions, values }))
        .map((o) => o.kind)
        .filter((k) => k === 'ServiceMonitor' || k === 'PodMonitor');
    assert.deepEqual(await kinds([]), [], 'no Prometheus Operator: no monitor, and the install works');
    const objects = await helmTemplate(CHART, {
      releaseName: 'ops',
      namespace,
      apiVersions: ['monitoring.coreos.com/v1/ServiceMonitor'],
      values: { metrics: { monitor: { labels: { release: 'prometheus' } } } },
    });
    const monitor = find<
      KubernetesObject & {
        spec: {
          selector: { matchLabels: Record<string, string> };
          endpoints: { port: string; path: string }[];
        };
      }
    >(objects, 'ServiceMonitor', 'ops-mtopo');
    const service = find<V1Service>(objects, 'Service', 'ops-mtopo-metrics');
    for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels))
      assert.equal(service.metadata?.labels?.[k], v, k);
    assert.equal(monitor.spec.endpoints[0]?.port, service.spec?.ports?.[0]?.name);
    assert.equal(monitor.spec.endpoints[0]?.path, '/metrics');
    assert.equal(monitor.metadata?.labels?.release, 'prometheus');
    assert.deepEqual(
      await kinds(['monitoring.coreos.com/v1/PodMonitor'], { metrics: { monitor: { kind: 'PodMonitor' } } }),
      ['PodMonitor'],
    );
    assert.deepEqual(
      await kinds(['monitoring.coreos.com/v1/ServiceMonitor'], { metrics: { monitor: { enabled: false } } }),
      [],
    );
    const serviceless = await helm(
      [
        'template',
        'ops',
        CHART,
        '--api-versions',
        'monitoring.coreos.com/v1/ServiceMonitor',
        '--set',
        'metrics.service.enabled=false',
      ],
      { check: false },
    );
    assert.match(
      serviceless.stderr,
      /metrics.monitor.kind=ServiceMonitor needs metrics.service.enabled=true/,
    );
  });

  it('renders the CRDs with the keep policy, the same as crds/, and none with crds.enabled=false', async () => {
    const objects = await helmTemplate(CHART, { releaseName: 'ops', namespace: 'ops' });
    const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition');
    assert.equal(crds.length, 3);
    for (const crd of crds) {
      assert.equal(crd.metadata?.annotations?.['helm.sh/resource-policy'], 'keep');
      const file = load(
        readFileSync(`${REPO_ROOT}crds/mtopo.dev_${crd.metadata!.name!.split('.')[0]}.yaml`, 'utf8'),
      ) as KubernetesObject;
      assert.deepEqual(
        { ...crd, metadata: { name: crd.metadata?.name } },
        file,
        'the schema as generated, unchanged by templating',
      );
    }
    const unkept = await helmTemplate(CHART, {
      releaseName: 'ops',
      namespace: 'ops',
      values: { crds: { keep: false } },
    });
    assert.ok(
      unkept.filter((o) => o.kind === 'CustomResourceDefinition').every((c) => !c.metadata?.annotations),
    );
    const none = await helmTemplate(CHART, {
      releaseName: 'ops',
      namespace: 'ops',
      values: { crds: { enabled: false } },
    });
    assert.ok(!none.some((o) => o.kind === 'CustomResourceDefinition'));
  });
});

describe('helm template, on a real API server', () => {
  before(async () => {
    await installChartCrds();
  });

  it('renders, by default, a cluster-wide operator whose objects all pass a dry run', async (t) => {
    const namespace = await createTestNamespace(t);
    const objects = await helmTemplate(CHART, { releaseName: 'ops', namespace });
    assert.deepEqual(inventory(objects), [
      `ClusterRole -/ops-mtopo`,
      `ClusterRoleBinding -/ops-mtopo`,
      ...CRD_INVENTORY,
      `Deployment ${namespace}/ops-mtopo`,
      `NetworkPolicy ${namespace}/ops-mtopo`,
      `PodDisruptionBudget ${namespace}/ops-mtopo`,
      `Role ${namespace}/ops-mtopo-leader-election`,
      `RoleBinding ${namespace}/ops-mtopo-leader-election`,
      `Service ${namespace}/ops-mtopo-metrics`,
      `ServiceAccount ${namespace}/ops-mtopo`,
    ]);
    const answered = await applyManifests(admin, objects, { dryRun: true });

    // What the API server would store: exactly the rules of rbac.ts.
    assert.deepEqual(find<Role>(answered, 'ClusterRole', 'ops-mtopo').rules, OPERATOR_RULES);
    assert.deepEqual(find<Role>(answered, 'Role', 'ops-mtopo-leader-election').rules, LEADER_ELECTION_RULES);
    for (const [kind, name] of [
      ['ClusterRoleBinding', 'ops-mtopo'],
      ['RoleBinding', 'ops-mtopo-leader-election'],
    ] as const) {
      const binding = find<V1RoleBinding>(answered, kind, name);
      assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'ops-mtopo', namespace }]);
      assert.equal(binding.roleRef.name, name);
    }

    const deployment = find<V1Deployment>(answered, 'Deployment', 'ops-mtopo');
    assert.equal(deployment.spec?.replicas, 2);
    assert.equal(deployment.spec?.template.spec?.serviceAccountName, 'ops-mtopo');
    assert.equal(deployment.spec?.template.spec?.automountServiceAccountToken, true);
    const container = operatorContainer(deployment);
    assert.equal(container.image, 'docker.io/mtopo/operator:0.1.0');
    assert.ok(container.args?.includes('--leader-elect'));
    assert.ok(container.args?.includes(`--lease-namespace=${namespace}`));
    assert.ok(container.args?.includes('--health-port=8081'));
    for (const program of ['mta', 'store', 'mmp']) {
      assert.ok(
        container.args?.includes(`--default-image-${program}=docker.io/mtopo/${program}:0.1.0`),
        `the ${program} of this release: ${JSON.stringify(container.args)}`,
      );
    }
    const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e]));
    assert.equal(env.NODE_OPTIONS?.value, '--max-old-space-size=256 --max-semi-space-size=8');
    assert.equal(env.WATCH_NAMESPACE?.value ?? '', '', 'every namespace');
    assert.equal(env.POD_NAME?.valueFrom?.fieldRef?.fieldPath, 'metadata.name');
    assert.equal(env.POD_NAMESPACE?.valueFrom?.fieldRef?.fieldPath, 'metadata.namespace');
    assert.equal(container.livenessProbe?.httpGet?.path, '/healthz');
    assert.equal(container.readinessProbe?.httpGet?.path, '/readyz');
    assert.equal(container.ports?.[0]?.containerPort, 8081);

    const budget = find<V1PodDisruptionBudget>(answered, 'PodDisruptionBudget', 'ops-mtopo');
    assert.equal(budget.spec?.minAvailable, 1);
    assert.deepEqual(budget.spec?.selector?.matchLabels, deployment.spec?.selector.matchLabels);
    const service = find<V1Service>(answered, 'Service', 'ops-mtopo-metrics');
    assert.deepEqual(service.spec?.selector, deployment.spec?.selector.matchLabels);
    assert.equal(service.spec?.ports?.[0]?.targetPort, 'health');
  });

  it("gives the programs the images of its values, or of the operator's own registry and tag", async (t) => {
    const namespace = await createTestNamespace(t);
    const args = async (values: Record<string, unknown>) =>
      operatorContainer(
        find<V1Deployment>(
          await helmTemplate(CHART, { releaseName: 'ops', namespace, values }),
          'Deployment',
          'ops-mtopo',
        ),
      ).args ?? [];
    const mirrored = await args({
      image: { repository: 'registry.corp.example/mail/operator', tag: '0.2.0' },
    });
    assert.ok(
      mirrored.includes('--default-image-store=registry.corp.example/mail/store:0.2.0'),
      mirrored.join(' '),
    );
    const named = await args({ images: { mta: 'localhost/mtopo/mta:dev' } });
    assert.ok(named.includes('--default-image-mta=localhost/mtopo/mta:dev'), named.join(' '));
    assert.ok(named.includes('--default-image-mmp=docker.io/mtopo/mmp:0.1.0'), named.join(' '));
  });

  it('renders, with watchNamespace, a Role in that namespace and no ClusterRole', async (t) => {
    const namespace = await createTestNamespace(t);
    const watched = await createTestNamespace(t);
    const objects = await helmTemplate(CHART, {
      releaseName: 'ops',
      namespace,
      values: { watchNamespace: watched },
    });
    assert.deepEqual(
      inventory(objects),
      [
        ...CRD_INVENTORY,
        `Deployment ${namespace}/ops-mtopo`,
        `NetworkPolicy ${namespace}/ops-mtopo`,
        `PodDisruptionBudget ${namespace}/ops-mtopo`,
        `Role ${namespace}/ops-mtopo-leader-election`,
        `Role ${watched}/ops-mtopo`,
        `RoleBinding ${namespace}/ops-mtopo-leader-election`,
        `RoleBinding ${watched}/ops-mtopo`,
        `Service ${namespace}/ops-mtopo-metrics`,
        `ServiceAccount ${namespace}/ops-mtopo`,
      ].sort(),
    );
    const answered = await applyManifests(admin, objects, { dryRun: true });
    assert.deepEqual(find<Role>(answered, 'Role', 'ops-mtopo').rules, OPERATOR_RULES);
    assert.deepEqual(find<V1RoleBinding>(answered, 'RoleBinding', 'ops-mtopo').subjects, [
      { kind: 'ServiceAccount', name: 'ops-mtopo', namespace },
    ]);
    const env = operatorContainer(find<V1Deployment>(answered, 'Deployment', 'ops-mtopo')).env ?? [];
    assert.equal(env.find((e) => e.name === 'WATCH_NAMESPACE')?.value, watched);
  });

  it('keeps leader election on with one replica (a rolling update runs two), without a budget', async (t) => {
    const namespace = await createTestNamespace(t);
    const single = await helmTemplate(CHART, { releaseName: 'ops', namespace, values: { replicas: 1 } });
    assert.ok(!single.some((o) => o.kind === 'PodDisruptionBudget'), 'no budget for a single replica');
    find<Role>(single, 'Role', 'ops-mtopo-leader-election');
    const deployment = find<V1Deployment>(single, 'Deployment', 'ops-mtopo');
    assert.equal(deployment.spec?.replicas, 1);
    assert.ok(operatorContainer(deployment).args?.includes('--leader-elect'));
    assert.equal(deployment.spec?.template.spec?.affinity, undefined, 'no anti-affinity for one pod');
    await applyManifests(admin, single, { dryRun: true });

    // Turned off explicitly (one replica only): no flag, no Lease role.
    const unled = await helmTemplate(CHART, {
      releaseName: 'ops',
      namespace,
      values: { replicas: 1, leaderElection: { enabled: false } },
    });
    assert.ok(!unled.some((o) => o.kind === 'Role'));
    assert.ok(
      !operatorContainer(find<V1Deployment>(unled, 'Deployment', 'ops-mtopo')).args?.includes(
        '--leader-elect',
      ),
    );
    await applyManifests(admin, unled, { dryRun: true });
  });

  it('runs pods that Pod Security admission admits as "restricted"', async (t) => {
    const namespace = await createTestNamespace(t);
    await kubectl(['label', 'namespace', namespace, 'pod-security.kubernetes.io/enforce=restricted']);
    const objects = await helmTemplate(CHART, { releaseName: 'ops', namespace });
    const deployment = find<V1Deployment>(objects, 'Deployment', 'ops-mtopo');
    const pod = deployment.spec!.template.spec!;
    assert.deepEqual(pod.securityContext, {
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    assert.deepEqual(operatorContainer(deployment).securityContext, {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });

    // The pod the ReplicaSet would create, through admission (its ServiceAccount must exist).
    await applyManifests(admin, [find(objects, 'ServiceAccount', 'ops-mtopo')]);
    const asPod = (spec: V1PodSpec): V1Pod => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'ops-mtopo-probe', namespace, labels: deployment.spec!.template.metadata?.labels },
      spec,
    });
    await applyManifests(admin, [asPod(pod)], { dryRun: true });
    // The check has teeth: the same pod without its security contexts is refused.
    const unconfined = {
      ...pod,
      securityContext: undefined,
      containers: pod.containers.map((c) => ({ ...c, securityContext: undefined })),
    };
    const refusal = await expectApiError(applyManifests(admin, [asPod(unconfined)], { dryRun: true }), 403);
    assert.match(refusal, /violates PodSecurity "restricted/);
  });
});

describe("installed by helm, the operator works with exactly the chart's RBAC", () => {
  before(async () => {
    await installChartCrds();
  });

  /**
   * `helm install` into a fresh release namespace (Pod Security "restricted" enforced), then a token
   * of the chart's ServiceAccount: what the operator's pod would get.
   */
  async function install(t: TestContext, values: Record<string, unknown>) {
    const namespace = await createTestNamespace(t);
    await kubectl(['label', 'namespace', namespace, 'pod-security.kubernetes.io/enforce=restricted']);
    const release = `r${Math.random().toString(36).slice(2, 8)}`;
    const kubeconfigPath = testKubeconfigPath();
    // The shared control plane's CRDs belong to no release (other tests install them): leave them.
    const installed = await helm(['install', release, CHART, '--namespace', namespace, '--values', '-'], {
      input: JSON.stringify({ crds: { enabled: false }, ...values }),
      kubeconfigPath,
    });
    t.after(async () => {
      await helm(['uninstall', release, '--namespace', namespace], { kubeconfigPath, check: false });
    });
    assert.match(installed.stdout, /STATUS: deployed/);
    assert.match(installed.stdout, new RegExp(`rollout status deployment/${release}-mtopo`), 'NOTES.txt');

    const serviceAccount = `${release}-mtopo`;
    const user = `system:serviceaccount:${namespace}:${serviceAccount}`;
    const core = admin.makeApiClient(CoreV1Api);
    const token = (
      await core.createNamespacedServiceAccountToken({
        name: serviceAccount,
        namespace,
        body: { spec: { expirationSeconds: 3600 } },
      })
    ).status?.token;
    assert.ok(token);
    const cluster = admin.getCurrentCluster()!;
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'test', server: cluster.server, caFile: cluster.caFile, skipTLSVerify: false }],
      users: [{ name: user, token }],
      contexts: [{ name: 'operator', cluster: 'test', user, namespace }],
      currentContext: 'operator',
    });

    // The Deployment's pods pass admission in the restricted namespace (no node will run them).
    await waitFor(`the ReplicaSet to create the operator's pods`, async () => {
      const pods = await core.listNamespacedPod({
        namespace,
        labelSelector: `app.kubernetes.io/instance=${release}`,
      });
      return pods.items.length === ((values.replicas as number | undefined) ?? 2);
    });
    return { namespace, user, kubeConfig };
  }

  async function allowed(
    user: string,
    attributes: { namespace?: string; group: string; resource: string; verb: string },
  ): Promise<boolean> {
    const review = await admin.makeApiClient(AuthorizationV1Api).createSubjectAccessReview({
      body: {
        spec: {
          user,
          groups: ['system:serviceaccounts', 'system:authenticated'],
          resourceAttributes: attributes,
        },
      },
    });
    return review.status?.allowed === true;
  }

  /** Runs the operator in-process as the chart's ServiceAccount, on `sites`, and waits for a site to converge. */
  async function converges(t: TestContext, kubeConfig: KubeConfig, leaseNamespace: string, sites: string) {
    const operator = new Operator({
      kubeConfig,
      namespace: sites,
      workers: 2,
      resyncMs: 3_600_000,
      fieldManager: 'mtopo-operator',
      leaderElection: {
        enabled: true,
        namespace: leaseNamespace,
        name: 'mtopo-operator',
        identity: 'chart-test',
        leaseDurationSeconds: 4,
        renewIntervalMs: 500,
      },
      log,
      metrics: operatorMetrics(),
      watch: { backoffBaseMs: 100, backoffMaxMs: 2_000 },
    });
    operator.start();
    // Only for a failed test: by then the release may be uninstalled, so the Lease not released.
    t.after(() => operator.stop().catch(() => undefined));
    await waitFor('the operator to lead', () => operator.leading);
    const objects = exampleIn(sites);
    await applyManifests(admin, objects, { fieldManager: 'kubectl' });
    await converged(sites, objects);
    const topology = (await client.get('MessagingTopology', sites, 'small')) as {
      status?: { conditions?: { reason: string }[] };
    };
    assert.ok(
      !topology.status?.conditions?.some((c) => c.reason === 'ApplyFailed'),
      JSON.stringify(topology.status),
    );
    // A clean shutdown hands the Lease back (get and update it), for a standby to take over at once.
    await operator.stop();
    const lease = (await client.get('Lease', leaseNamespace, 'mtopo-operator')) as {
      spec?: { holderIdentity?: string };
    };
    assert.equal(lease.spec?.holderIdentity, '');
  }

  it('cluster-wide (the default): may act in every namespace, and a site converges', async (t) => {
    const sites = await createTestNamespace(t);
    const { namespace, user, kubeConfig } = await install(t, {});
    await waitFor('RBAC to honour the ClusterRoleBinding', () =>
      allowed(user, { namespace: sites, group: 'mtopo.dev', resource: 'mtarelays', verb: 'watch' }),
    );
    for (const rule of OPERATOR_RULES) {
      for (const resource of rule.resources ?? []) {
        const [plural, subresource] = resource.split('/');
        for (const verb of rule.verbs) {
          const attributes = { group: rule.apiGroups?.[0] ?? '', resource: plural!, verb, subresource };
          assert.ok(await allowed(user, attributes), `${verb} ${resource} in every namespace`);
        }
      }
    }
    assert.equal(
      await allowed(user, { group: '', resource: 'secrets', verb: 'get' }),
      false,
      'reads no Secret',
    );
    // The in-process operator watches one namespace, so as not to reconcile other tests' sites.
    await converges(t, kubeConfig, namespace, sites);
  });

  it('watching one namespace: may act there only, and a site there converges', async (t) => {
    const sites = await createTestNamespace(t);
    const { namespace, user, kubeConfig } = await install(t, { watchNamespace: sites, replicas: 1 });
    await waitFor('RBAC to honour the RoleBinding', () =>
      allowed(user, { namespace: sites, group: 'mtopo.dev', resource: 'mtarelays', verb: 'watch' }),
    );
    for (const elsewhere of [namespace, undefined]) {
      assert.equal(
        await allowed(user, {
          namespace: elsewhere,
          group: 'mtopo.dev',
          resource: 'mtarelays',
          verb: 'list',
        }),
        false,
        `no access outside ${sites}`,
      );
    }
    await converges(t, kubeConfig, namespace, sites);
  });
});
