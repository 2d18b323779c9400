// The node does what a cluster must for the suite above it: it schedules and runs pods from
// imported images, shows their logs, execs into them, carries pod-to-pod and Service traffic with
// names from the cluster DNS, enforces NetworkPolicies (default deny; an allow rule opens exactly
// its port), and gives LoadBalancer Services an address that connects. Run by `make e2e`.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { kubectl } from '../testing/control-plane/kubectl.ts';
import { waitFor } from '../testing/support/wait.ts';
import { poolContains } from './cluster/load-balancer-pool.ts';
import { LOAD_BALANCER_POOL, NODE_NAME } from './cluster/plan.ts';
import {
  apply,
  deleteNamespace,
  exec,
  jsonpath,
  reach,
  testNamespace,
  testPod,
  waitReady,
  WAIT,
} from './support.ts';

/** Answers each connection on `port` with `pong-<port>` (busybox nc, one process per connection). */
const answerOn = (port: number): string => `nc -ll -p ${port} -e echo pong-${port}`;

/** Reads what a TCP server sends first, from this (the host's) network namespace. */
function readFromHost(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, timeout: 4000 });
    let data = '';
    socket.on('data', (chunk) => (data += chunk.toString()));
    socket.once('end', () => resolve(data.trim()));
    socket.once('timeout', () => socket.destroy(new Error(`no answer from ${host}:${port} within 4 s`)));
    socket.once('error', reject);
  });
}

test('the node is Ready and schedulable', async () => {
  const ready = await kubectl([
    'get',
    'node',
    NODE_NAME,
    '-o',
    'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
  ]);
  assert.equal(ready.stdout, 'True');
  const taints = await kubectl(['get', 'node', NODE_NAME, '-o', 'jsonpath={.spec.taints}']);
  assert.equal(taints.stdout, '', 'no not-ready or uninitialized taint is left');
});

describe('pods and Services', () => {
  let namespace = '';
  before(async () => {
    namespace = await testNamespace('e2e-pods');
    await apply(namespace, [
      testPod('server', { app: 'server' }, `echo server-started; ${answerOn(8080)}`, { readyPort: 8080 }),
      testPod('client', { role: 'client' }, 'echo hello-from-the-client; exec sleep 100000'),
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'server' },
        spec: { selector: { app: 'server' }, ports: [{ port: 80, targetPort: 8080 }] },
      },
    ]);
    await waitReady(namespace, 'server', 'client');
  });
  after(() => deleteNamespace(namespace));

  test('a pod runs from the imported image and its output shows in kubectl logs', async () => {
    const logs = await waitFor(
      'the client pod to log',
      async () => {
        const out = (await kubectl(['-n', namespace, 'logs', 'client'], { check: false })).stdout;
        return out.includes('hello-from-the-client') ? out : undefined;
      },
      WAIT,
    );
    assert.match(logs, /hello-from-the-client/);
  });

  test('kubectl exec runs a command in the pod, as the pod user, on a read-only root', async () => {
    const id = await exec(namespace, 'client', ['id', '-u']);
    assert.equal(id.exitCode, 0, id.stderr);
    assert.equal(id.stdout.trim(), '65534');
    const write = await exec(namespace, 'client', ['touch', '/bin/x']);
    assert.notEqual(write.exitCode, 0, 'the root filesystem is read-only');
  });

  test('a pod reaches another pod by its IP', async () => {
    const serverIp = await jsonpath(namespace, 'pod/server', '{.status.podIP}');
    assert.ok(serverIp !== '', 'the server pod has an IP');
    const answer = await waitFor(
      'the client to reach the server pod',
      () => reach(namespace, 'client', serverIp, 8080),
      WAIT,
    );
    assert.equal(answer, 'pong-8080');
  });

  test('a Service is found by its DNS name and carries the connection to its pod', async () => {
    const clusterIp = await jsonpath(namespace, 'service/server', '{.spec.clusterIP}');
    const fqdn = `server.${namespace}.svc.cluster.local`;
    const lookup = await waitFor(
      'the cluster DNS to answer for the Service',
      async () => {
        const result = await exec(namespace, 'client', ['nslookup', fqdn]);
        return result.exitCode === 0 && result.stdout.includes(clusterIp) ? result.stdout : undefined;
      },
      WAIT,
    );
    assert.match(lookup, new RegExp(clusterIp.replaceAll('.', '\\.')));
    // The short name, through the search path the kubelet wrote into the pod's resolv.conf.
    const answer = await waitFor(
      'the client to reach the Service by name',
      () => reach(namespace, 'client', 'server', 80),
      WAIT,
    );
    assert.equal(answer, 'pong-8080');
  });

  describe('a LoadBalancer Service', () => {
    let address = '';
    before(async () => {
      await apply(namespace, [
        {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'public' },
          spec: {
            type: 'LoadBalancer',
            selector: { app: 'server' },
            ports: [{ port: 80, targetPort: 8080 }],
          },
        },
      ]);
      address = await waitFor(
        'an address in status.loadBalancer',
        async () => {
          const ip = await jsonpath(namespace, 'service/public', '{.status.loadBalancer.ingress[0].ip}');
          return ip === '' ? undefined : ip;
        },
        WAIT,
      );
    });

    test('gets an address from the pool on the node bridge', () => {
      assert.ok(
        poolContains(LOAD_BALANCER_POOL, address),
        `${address} is in ${LOAD_BALANCER_POOL.first}-${LOAD_BALANCER_POOL.last}`,
      );
    });

    test('connects from the host, as a client outside the cluster would', async () => {
      const answer = await waitFor(
        'the host to reach the load balancer address',
        () => readFromHost(address, 80),
        WAIT,
      );
      assert.equal(answer, 'pong-8080');
    });

    test('connects from a pod', async () => {
      const answer = await waitFor(
        'the client pod to reach the load balancer address',
        () => reach(namespace, 'client', address, 80),
        WAIT,
      );
      assert.equal(answer, 'pong-8080');
    });

    test('gives the address back when the Service goes', async () => {
      await kubectl(['-n', namespace, 'delete', 'service', 'public', '--wait=true']);
      await waitFor(
        'the address to stop answering',
        async () => {
          try {
            await readFromHost(address, 80);
            return false;
          } catch {
            return true;
          }
        },
        WAIT,
      );
    });
  });
});

describe('NetworkPolicies on the enforcer (kube-router)', () => {
  let namespace = '';
  let serverIp = '';
  before(async () => {
    namespace = await testNamespace('e2e-policy');
    await apply(namespace, [
      testPod('server', { app: 'server' }, `${answerOn(8080)} & ${answerOn(8081)} & wait`, {
        readyPort: 8081,
      }),
      testPod('client', { role: 'client' }, 'exec sleep 100000'),
      testPod('outsider', { role: 'outsider' }, 'exec sleep 100000'),
    ]);
    await waitReady(namespace, 'server', 'client', 'outsider');
    serverIp = await jsonpath(namespace, 'pod/server', '{.status.podIP}');
    // Both ports answer before any policy: a refusal later is the policy's doing.
    for (const port of [8080, 8081])
      assert.equal(
        await waitFor(`port ${port} to answer`, () => reach(namespace, 'client', serverIp, port), WAIT),
        `pong-${port}`,
      );
  });
  after(() => deleteNamespace(namespace));

  test('a default-deny policy blocks every connection to the namespace pods', async () => {
    await apply(namespace, [
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'default-deny' },
        spec: { podSelector: {}, policyTypes: ['Ingress'] },
      },
    ]);
    await waitFor(
      'the enforcer to block port 8080',
      async () => (await reach(namespace, 'client', serverIp, 8080)) === undefined,
      WAIT,
    );
    assert.equal(await reach(namespace, 'client', serverIp, 8081), undefined, 'port 8081 is blocked too');
    assert.equal(await reach(namespace, 'outsider', serverIp, 8080), undefined, 'and from every pod');
  });

  test('an allow policy opens exactly its port, from exactly its pods', async () => {
    await apply(namespace, [
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'client-to-server-8080' },
        spec: {
          podSelector: { matchLabels: { app: 'server' } },
          policyTypes: ['Ingress'],
          ingress: [
            {
              from: [{ podSelector: { matchLabels: { role: 'client' } } }],
              ports: [{ protocol: 'TCP', port: 8080 }],
            },
          ],
        },
      },
    ]);
    const answer = await waitFor(
      'the allow policy to open port 8080',
      () => reach(namespace, 'client', serverIp, 8080),
      WAIT,
    );
    assert.equal(answer, 'pong-8080');
    assert.equal(await reach(namespace, 'client', serverIp, 8081), undefined, 'port 8081 stays closed');
    assert.equal(
      await reach(namespace, 'outsider', serverIp, 8080),
      undefined,
      'a pod the policy does not name stays out',
    );
  });
});
