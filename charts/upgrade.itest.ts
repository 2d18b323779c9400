// The chart's life after the first day, on a control plane of its own (the CRDs are cluster-wide;
// the shared one's tests would see them change under them): `helm install` of the chart as first
// released (from this repository's history, its CRDs in Helm's crds/ folder), a site, `helm upgrade`
// to this chart (templated CRDs), and the CRDs carry the new schema and the site converges under
// the operator, run as a process. Then uninstall: deleting the topology leaves its claims (mailboxes,
// queues), and `helm uninstall` leaves the CRDs and the claims.
//
// Here the operator's pods never run (no node): the operator runs beside them as a process, as the
// chart's ServiceAccount would run it. What the end-to-end node will add: mail delivered before the
// upgrade is still readable over IMAP after it, with the store pods restarted on the new images.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import { loadKubeConfig } from '../testing/control-plane/kubeconfig.ts';
import { startControlPlane, type ControlPlane } from '../testing/control-plane/control-plane.ts';
import { applyManifests, clusterBinDir, kubectl, waitFor } from '../testing/control-plane/index.ts';
import { freePort } from '../testing/support/free-ports.ts';
import { ManagedProcess } from '../testing/support/processes.ts';
import { ensureHelmBinary, helm } from '../testing/helm/helm.ts';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const CHART = `${REPO_ROOT}charts/mtopo`;
/** The chart as first released (0.1.0): CRDs in crds/, which Helm installs once and never upgrades. */
const PREVIOUS_CHART_COMMIT = 'e61a5e8a9dfe3679197aa98f7f001d8d53406d80';
const RELEASE = 'mtopo';
const RELEASE_NAMESPACE = 'mtopo-system';
const SITES = 'small-mail';

/** The chart directory of `commit`, extracted from git into a temporary directory. */
function chartAt(commit: string): { dir: string; remove: () => void } {
  const root = mkdtempSync(path.join(tmpdir(), 'mtopo-chart-'));
  const archive = execFileSync('git', ['-C', REPO_ROOT, 'archive', commit, 'charts/mtopo']);
  execFileSync('tar', ['-x', '-C', root], { input: archive });
  return {
    dir: path.join(root, 'charts/mtopo'),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** Whether the stored schema of MessagingTopology has spec.stores.quota (added after 0.1.0). */
function hasQuota(crd: { spec: { versions: { schema?: { openAPIV3Schema?: unknown } }[] } }): boolean {
  const schema = crd.spec.versions[0]?.schema?.openAPIV3Schema as {
    properties?: { spec?: { properties?: { stores?: { properties?: Record<string, unknown> } } } };
  };
  return schema?.properties?.spec?.properties?.stores?.properties?.quota !== undefined;
}

describe('helm upgrade from the first release, then uninstall', { timeout: 10 * 60_000 }, () => {
  let cluster: ControlPlane;
  let admin: KubeConfig;
  let previous: ReturnType<typeof chartAt>;
  let operator: ManagedProcess | undefined;
  const scratch = mkdtempSync(path.join(tmpdir(), 'mtopo-upgrade-'));

  before(
    async () => {
      await ensureHelmBinary();
      cluster = await startControlPlane({ binDir: clusterBinDir() });
      admin = loadKubeConfig(cluster.kubeconfigPath);
      previous = chartAt(PREVIOUS_CHART_COMMIT);
      for (const namespace of [RELEASE_NAMESPACE, SITES]) {
        await kubectl(['create', 'namespace', namespace], { kubeconfigPath: cluster.kubeconfigPath });
      }
    },
    { timeout: 15 * 60_000 },
  );

  after(async () => {
    await operator?.stop(10_000);
    previous?.remove();
    await cluster?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  const run = (args: string[]) => helm(args, { kubeconfigPath: cluster.kubeconfigPath, timeoutMs: 120_000 });
  const crd = (name = 'messagingtopologies.mtopo.dev') =>
    admin.makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name });
  type Topology = KubernetesObject & {
    spec?: { stores?: { quota?: unknown } };
    status?: { observedGeneration?: number };
  };
  const topology = async () =>
    (await admin.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
      group: 'mtopo.dev',
      version: 'v1alpha1',
      namespace: SITES,
      plural: 'messagingtopologies',
      name: 'small',
    })) as Topology;
  const statefulSets = async () =>
    (await admin.makeApiClient(AppsV1Api).listNamespacedStatefulSet({ namespace: SITES })).items;
  const claims = async () =>
    (await admin.makeApiClient(CoreV1Api).listNamespacedPersistentVolumeClaim({ namespace: SITES })).items;
  const example = () =>
    (loadAll(readFileSync(`${REPO_ROOT}examples/minimal.yaml`, 'utf8')) as KubernetesObject[]).filter(
      (o) => o.kind !== 'Namespace',
    );

  it('installs 0.1.0 (CRDs from crds/), takes its site, upgrades to this chart: new schema, site converges', async () => {
    const installed = await run(['install', RELEASE, previous.dir, '--namespace', RELEASE_NAMESPACE]);
    assert.match(installed.stdout, /STATUS: deployed/);
    assert.equal(hasQuota(await crd()), false, 'the first release knows no stores.quota');
    // A site of that release: its example, as its users applied it.
    await applyManifests(admin, example(), { fieldManager: 'kubectl' });

    // The first upgrade adopts the CRDs that crds/ installed outside the release (--take-ownership);
    // later upgrades need no flag. docs/install.md says so.
    const refused = await helm(['upgrade', RELEASE, CHART, '--namespace', RELEASE_NAMESPACE], {
      kubeconfigPath: cluster.kubeconfigPath,
      check: false,
    });
    assert.notEqual(refused.exitCode, 0, 'without --take-ownership Helm will not adopt the CRDs');
    assert.match(refused.stderr, /messagingtopologies\.mtopo\.dev.*exists and cannot be imported/);
    const upgraded = await run([
      'upgrade',
      RELEASE,
      CHART,
      '--namespace',
      RELEASE_NAMESPACE,
      '--take-ownership',
    ]);
    assert.match(upgraded.stdout, /STATUS: deployed/);
    assert.match(upgraded.stdout, /REVISION: 2/);
    const upgradedCrd = await crd();
    assert.ok(hasQuota(upgradedCrd), 'the new schema is served');
    assert.equal(upgradedCrd?.metadata?.annotations?.['helm.sh/resource-policy'], 'keep');
    assert.equal(upgradedCrd?.metadata?.annotations?.['meta.helm.sh/release-name'], RELEASE);

    // A second upgrade is an ordinary one.
    const again = await run(['upgrade', RELEASE, CHART, '--namespace', RELEASE_NAMESPACE]);
    assert.match(again.stdout, /REVISION: 3/);

    // The operator of this release (a process here) converges the site made under the old schema.
    const healthPort = await freePort();
    operator = ManagedProcess.spawn(
      'operator',
      process.execPath,
      [
        `${REPO_ROOT}operator/src/reconcile/main.ts`,
        `--namespace=${SITES}`,
        `--health-port=${healthPort}`,
        '--health-address=127.0.0.1',
        '--log-level=info',
      ],
      {
        logFile: path.join(scratch, 'operator.log'),
        env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath },
      },
    );
    const sets = await waitFor(
      'the site reconciled: its StatefulSets, and status of generation 1',
      async () => {
        const found = await statefulSets();
        return (await topology()).status?.observedGeneration === 1 && found.length >= 2 && found;
      },
      { timeoutMs: 90_000 },
    ).catch((error: unknown) => {
      throw new Error(
        `${(error as Error).message}\n${readFileSync(path.join(scratch, 'operator.log'), 'utf8').slice(-4000)}`,
      );
    });

    // The new field is now accepted and kept (the old schema would have pruned it).
    const withQuota = structuredClone(example()[0]!) as KubernetesObject & {
      spec: { stores?: Record<string, unknown> };
    };
    withQuota.spec.stores = { ...withQuota.spec.stores, quota: { storage: '1Gi' } };
    await applyManifests(admin, [withQuota], { fieldManager: 'kubectl' });
    await waitFor('the quota kept and the change reconciled', async () => {
      const live = await topology();
      return live.spec?.stores?.quota !== undefined && live.status?.observedGeneration === 2;
    });
    for (const set of sets) {
      assert.equal(set.metadata?.ownerReferences?.[0]?.apiVersion, 'mtopo.dev/v1alpha1', set.metadata?.name);
    }
  });

  it('keeps mailboxes and queues when the topology goes, and CRDs and claims on helm uninstall', async () => {
    // The StatefulSet controller makes each replica's claim (the pods stay Pending: no node).
    const made = await waitFor(
      'every StatefulSet replica to have its claim',
      async () => {
        const wanted = (await statefulSets()).reduce((n, s) => n + (s.spec?.replicas ?? 0), 0);
        const found = await claims();
        return wanted > 0 && found.length === wanted && found;
      },
      { timeoutMs: 60_000 },
    );
    const names = made.map((c) => c.metadata!.name!).sort();
    assert.ok(
      names.some((n) => n.startsWith('mail-')),
      `a store's mailboxes: ${names.join(', ')}`,
    );
    assert.ok(
      names.some((n) => n.startsWith('queue-')),
      `an MTA's queue: ${names.join(', ')}`,
    );
    for (const claim of made) {
      assert.deepEqual(
        claim.metadata?.ownerReferences ?? [],
        [],
        `${claim.metadata?.name} has no owner to die with`,
      );
    }

    // The whole site: the topology and the relays and pool that attach to it.
    await kubectl(
      [
        'delete',
        'messagingtopologies,mtarelays,mmppools',
        '--all',
        '-n',
        SITES,
        '--wait=true',
        '--timeout=60s',
      ],
      { kubeconfigPath: cluster.kubeconfigPath },
    );
    await waitFor(
      'the garbage collector to delete the StatefulSets',
      async () => (await statefulSets()).length === 0,
      { timeoutMs: 60_000 },
    );
    const left = (await claims()).map((c) => c.metadata!.name!).sort();
    assert.deepEqual(left, names, 'every claim survives its topology');

    const uninstalled = await run(['uninstall', RELEASE, '--namespace', RELEASE_NAMESPACE]);
    assert.match(uninstalled.stdout, /kept due to the resource policy/);
    for (const name of ['messagingtopologies.mtopo.dev', 'mtarelays.mtopo.dev', 'mmppools.mtopo.dev']) {
      assert.equal((await crd(name)).metadata?.name, name, `${name} kept`);
    }
    assert.deepEqual((await claims()).map((c) => c.metadata!.name!).sort(), names);
    const operatorLeft = await admin
      .makeApiClient(AppsV1Api)
      .listNamespacedDeployment({ namespace: RELEASE_NAMESPACE });
    assert.equal(operatorLeft.items.length, 0, 'the operator is gone');
  });
});
