// `helm test` for real on the API server: the chart's test hook (a pod running `kubectl wait
// --for=condition=Ready` on every topology in scope, as its own read-only ServiceAccount) fails
// while a topology is not Ready and passes once it is. There is no node to run the pod, so the test
// plays the kubelet: it runs the pod's own arguments with the pinned kubectl and a token of the
// pod's ServiceAccount, then writes the pod's phase as a kubelet would (Succeeded or Failed by the
// exit code), which is what `helm test` waits for. A probe message across each site (SMTP in, IMAP
// out) needs pods that run: it comes with the end-to-end node.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { CoreV1Api, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import { readFileSync } from 'node:fs';
import { writeKubeconfig } from '../testing/control-plane/kubeconfig.ts';
import { clusterScratchDir } from '../testing/control-plane/test-env.ts';
import {
  applyManifests,
  createTestNamespace,
  kubectl,
  testKubeconfigPath,
  waitFor,
} from '../testing/control-plane/index.ts';
import { admin, CHART, installChartCrds, REPO_ROOT } from './chart-test-env.ts';
import { ensureHelmBinary, helm, type HelmResult } from '../testing/helm/helm.ts';

const core = admin.makeApiClient(CoreV1Api);

/** Sets the topology's Ready condition through the status subresource, as the operator would. */
async function setReady(namespace: string, ready: boolean): Promise<void> {
  const condition = {
    type: 'Ready',
    status: ready ? 'True' : 'False',
    reason: ready ? 'TiersReady' : 'TiersNotReady',
    message: ready ? 'All 4 tiers are ready.' : 'Waiting for edge-mta 0/1 ready.',
    lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    observedGeneration: 1,
  };
  await kubectl([
    'patch',
    'messagingtopology',
    'small',
    '-n',
    namespace,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status: { observedGeneration: 1, conditions: [condition] } }),
  ]);
}

/**
 * Runs `helm test` while playing the kubelet for its pod: the pod's container arguments run with
 * the pinned kubectl as the pod's ServiceAccount; the pod's phase follows the exit code.
 */
async function helmTestAsKubelet(t: TestContext, release: string, namespace: string) {
  const running = helm(['test', release, '--namespace', namespace, '--timeout', '90s'], {
    kubeconfigPath: testKubeconfigPath(),
    check: false,
    timeoutMs: 120_000,
  });
  const podName = `${release}-mtopo-test`;
  const pod = await waitFor(`helm test to create ${podName}`, async () => {
    try {
      const found = await core.readNamespacedPod({ name: podName, namespace });
      return found.metadata?.deletionTimestamp === undefined && found.status?.phase === 'Pending' && found;
    } catch {
      return false;
    }
  });
  const container = pod.spec!.containers[0]!;
  assert.equal(container.image, 'registry.k8s.io/kubectl:v1.35.4');
  const serviceAccount = pod.spec!.serviceAccountName!;
  const token = (
    await core.createNamespacedServiceAccountToken({
      name: serviceAccount,
      namespace,
      body: { spec: { expirationSeconds: 600 } },
    })
  ).status!.token!;
  const cluster = admin.getCurrentCluster()!;
  const kubeconfigPath = path.join(clusterScratchDir(), `${podName}-${Date.now()}.kubeconfig`);
  writeKubeconfig(kubeconfigPath, {
    server: cluster.server,
    certificateAuthorityPath: cluster.caFile!,
    userName: `system:serviceaccount:${namespace}:${serviceAccount}`,
    token,
  });
  const ran = await kubectl(container.args ?? [], { kubeconfigPath, check: false, timeoutMs: 60_000 });
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const status: V1Pod['status'] = {
    ...pod.status,
    phase: ran.exitCode === 0 ? 'Succeeded' : 'Failed',
    containerStatuses: [
      {
        name: container.name,
        image: container.image!,
        imageID: '',
        ready: false,
        restartCount: 0,
        state: {
          terminated: {
            exitCode: ran.exitCode,
            reason: ran.exitCode === 0 ? 'Completed' : 'Error',
            message: (ran.stdout + ran.stderr).slice(0, 1024),
            startedAt: new Date(now),
            finishedAt: new Date(now),
          },
        },
      },
    ],
  };
  await core.replaceNamespacedPodStatus({ name: podName, namespace, body: { ...pod, status } });
  const result: HelmResult = await running;
  t.diagnostic(`kubectl ${container.args?.join(' ')} → ${ran.exitCode}: ${ran.stdout}${ran.stderr}`);
  return { helm: result, kubectl: ran };
}

describe('helm test', () => {
  it('fails while a topology in scope is not Ready, naming it, and passes once it is', async (t) => {
    await ensureHelmBinary();
    await installChartCrds();
    const namespace = await createTestNamespace(t);
    const sites = await createTestNamespace(t);
    const release = `t${Math.random().toString(36).slice(2, 8)}`;
    await helm(['install', release, CHART, '--namespace', namespace, '--values', '-'], {
      input: JSON.stringify({
        crds: { enabled: false },
        watchNamespace: sites,
        replicas: 1,
        tests: { timeout: '3s' },
      }),
      kubeconfigPath: testKubeconfigPath(),
    });
    t.after(() =>
      helm(['uninstall', release, '--namespace', namespace], {
        kubeconfigPath: testKubeconfigPath(),
        check: false,
      }),
    );
    const [topology] = loadAll(
      readFileSync(`${REPO_ROOT}examples/minimal.yaml`, 'utf8'),
    ) as KubernetesObject[];
    await applyManifests(admin, [{ ...topology!, metadata: { ...topology!.metadata, namespace: sites } }]);

    await setReady(sites, false);
    const failing = await helmTestAsKubelet(t, release, namespace);
    assert.notEqual(failing.kubectl.exitCode, 0);
    assert.match(failing.kubectl.stderr, /timed out waiting for the condition on messagingtopologies\/small/);
    assert.notEqual(failing.helm.exitCode, 0, failing.helm.stdout);
    assert.match(
      failing.helm.stdout + failing.helm.stderr,
      new RegExp(`${release}-mtopo-test.*\\n?.*Failed|pod ${release}-mtopo-test failed`),
    );

    await setReady(sites, true);
    const passing = await helmTestAsKubelet(t, release, namespace);
    assert.equal(passing.kubectl.exitCode, 0, passing.kubectl.stderr);
    assert.match(passing.kubectl.stdout, /messagingtopology.mtopo.dev\/small condition met/);
    assert.equal(passing.helm.exitCode, 0, passing.helm.stderr);
    assert.match(passing.helm.stdout, /Phase:\s+Succeeded/);
  });
});
