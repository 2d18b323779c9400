// `mtopo status NAME` and `mtopo diagram NAME` (also `kubectl mtopo …`) read a running site with the
// user's kubeconfig from a real API server, where the operator has written its status.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import {
  createTestNamespace,
  installCrdsFrom,
  testKubeConfig,
  testKubeconfigPath,
  waitFor,
} from '../../../testing/control-plane/index.ts';
import { runExampleSite } from '../../../testing/operator/example-site.ts';
import { KubeClient } from '../reconcile/kube/rest-client.ts';
import { REPO_ROOT } from '../render/test-support.ts';
import { run } from './main.ts';

const admin = testKubeConfig();

async function mtopo(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(argv, {
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    readStdin: () => '',
    writeFile: () => {},
  });
  return { code, out, err };
}

describe('mtopo status and diagram of a live site', () => {
  before(async () => {
    await installCrdsFrom(admin, `${REPO_ROOT}crds`);
    // The CLI finds the cluster as kubectl does.
    process.env.KUBECONFIG = testKubeconfigPath();
  });

  it('shows why a site is not Ready, its tiers and the DNS records; draws it; names a missing one; route says which pods it looked for', async (t) => {
    const namespace = await createTestNamespace(t);
    const objects = await runExampleSite(t, admin, namespace);
    const client = new KubeClient(admin, { fieldManager: 'test-user' });
    await waitFor('the operator to write the site status', async () => {
      const live = (await client.get('MessagingTopology', namespace, 'small')) as {
        status?: { tiers?: unknown[]; dnsRecords?: unknown[] };
      };
      if ((live.status?.tiers?.length ?? 0) === 0 || (live.status?.dnsRecords?.length ?? 0) === 0)
        return false;
      for (const kind of ['MTARelay', 'MMPPool']) {
        const { items } = await client.list<KubernetesObject & { status?: { conditions?: unknown[] } }>(
          kind,
          namespace,
        );
        if (items.some((m) => (m.status?.conditions?.length ?? 0) === 0)) return false;
      }
      return true;
    });

    const status = await mtopo('status', 'small', '-n', namespace);
    assert.equal(status.code, 0, status.err);
    // No pods run on the API-server harness: the site waits for its tiers, and says so.
    assert.match(status.out, new RegExp(`^MessagingTopology ${namespace}/small: not Ready`));
    assert.match(status.out, /Ready=False \(TiersNotReady\): Waiting for /);
    assert.match(status.out, /^Tiers$/m);
    // Each tier's row names its resource and carries that resource's own Ready message.
    assert.match(
      status.out,
      /^ {2}edge-mta +MTARelay\/edge +internet +0\/1 +TiersNotReady: Waiting for edge-mta 0\/1 ready\.$/m,
    );
    assert.match(status.out, /^ {2}small-store +MessagingTopology\/small +store +0\/1 /m);
    for (const o of objects.filter((x) => x.kind !== 'MessagingTopology'))
      assert.match(status.out, new RegExp(`^  \\S+ +${o.kind}/${o.metadata!.name} `, 'm'));
    assert.match(status.out, /^DNS records to publish$/m);
    assert.match(status.out, /^ {2}\S+ +MX +10 \S+/m);

    const diagram = await mtopo('diagram', 'small', '-n', namespace);
    assert.equal(diagram.code, 0, diagram.err);
    assert.match(diagram.out, /^flowchart/m);
    const offline = await mtopo('diagram', '-f', `${REPO_ROOT}examples/minimal.yaml`);
    // The same picture as the manifest's, in the namespace it was applied to.
    assert.equal(diagram.out, offline.out.replace('(namespace small-mail)', `(namespace ${namespace})`));

    const missing = await mtopo('status', 'nosuch', '-n', namespace);
    assert.equal(missing.code, 1);
    assert.match(missing.err, new RegExp(`no MessagingTopology "nosuch" in namespace ${namespace}`));

    // route finds the namespace's only topology and its inbound tier; with no pod running there it
    // says which pods it looked for (asking a running pod is tested on the node: e2e/site).
    const route = await mtopo('route', 'someone@small.example', '-n', namespace);
    assert.equal(route.code, 1, route.out);
    assert.equal(
      route.err,
      `mtopo route: no Ready pod of MTARelay inbound to ask (kubectl -n ${namespace} get pods -l mtopo.dev/topology=small,mtopo.dev/tier=inbound-mta)\n`,
    );
    const wrongTier = await mtopo('route', 'someone@small.example', 'small', '-n', namespace, '--tier', 'x');
    assert.equal(wrongTier.code, 1);
    assert.match(wrongTier.err, /has no MTA tier "x"; its MTA tiers: edge \(internet\), inbound \(inbound\)/);
  });
});
