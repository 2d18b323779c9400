// The outside namespace on the real node: a server there is reached from pods at the address a
// topology names, a client there reaches pods from its zone's address (so ipBlock rules see the
// source they were written for), and the outside reaches nothing but the cluster.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ManagedProcess } from '../../testing/support/processes.ts';
import { waitFor } from '../../testing/support/wait.ts';
import { HOST_ADDRESS, POD_CIDR, SERVICE_CIDR, API_SERVER_PORT } from '../cluster/plan.ts';
import {
  apply,
  deleteNamespace,
  jsonpath,
  reach,
  testNamespace,
  testPod,
  waitReady,
  WAIT,
} from '../support.ts';
import { createOutside, type OutsideNetwork } from './outside-network.ts';
import { probeFrom } from './probe.ts';

const DIRECTORY = '10.20.0.5';
const CONTRACTOR = '10.40.1.1';
const ENGINEER = '10.50.1.1';

describe('the outside namespace', () => {
  let outside: OutsideNetwork;
  let directory: ManagedProcess;
  let scratch = '';
  let namespace = '';
  let serverIp = '';

  before(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), 'mtopo-outside-'));
    outside = await createOutside({
      addresses: [DIRECTORY, CONTRACTOR, ENGINEER],
      clusterRanges: [POD_CIDR, SERVICE_CIDR],
    });
    const [command, args] = outside.wrap('/bin/busybox', [
      'nc',
      '-ll',
      '-p',
      '389',
      '-e',
      'echo',
      'pong-directory',
    ]);
    directory = ManagedProcess.spawn('directory', command, args, {
      logFile: path.join(scratch, 'directory.log'),
    });
    namespace = await testNamespace('outside');
    const objects = [
      testPod('client', { role: 'client' }, 'exec sleep 100000'),
      testPod('server', { role: 'server' }, 'exec nc -ll -p 8080 -e echo pong-server'),
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'contractors-only' },
        spec: {
          podSelector: { matchLabels: { role: 'server' } },
          policyTypes: ['Ingress'],
          ingress: [
            { from: [{ ipBlock: { cidr: '10.40.0.0/16' } }], ports: [{ port: 8080, protocol: 'TCP' }] },
          ],
        },
      },
    ];
    await apply(namespace, objects);
    await waitReady(namespace, 'client', 'server');
    serverIp = await jsonpath(namespace, 'pod/server', '{.status.podIP}');
  });

  after(async () => {
    await deleteNamespace(namespace);
    await directory?.stop();
    await outside?.delete();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  test('a pod reaches a server outside at the address the topology names', async () => {
    const answer = await waitFor(
      'the client pod to reach the directory outside',
      () => reach(namespace, 'client', DIRECTORY, 389),
      WAIT,
    );
    assert.equal(answer, 'pong-directory');
  });

  test('a client outside reaches a pod from its zone address, and the policy tells zones apart', async () => {
    const admitted = await waitFor(
      'the contractor to reach the server pod',
      async () => {
        const result = await probeFrom(outside, CONTRACTOR, serverIp, 8080);
        return result.outcome === 'open' ? result : undefined;
      },
      WAIT,
    );
    assert.match(admitted.outcome === 'open' ? admitted.banner : '', /pong-server/);
    // The same listening port, from the other zone: kube-router rejects (ICMP port unreachable).
    const refused = await probeFrom(outside, ENGINEER, serverIp, 8080);
    assert.notEqual(refused.outcome, 'open', 'the engineering zone is not in the ipBlock');
  });

  test('the outside reaches nothing beyond the cluster: not the host', async () => {
    const result = await probeFrom(outside, CONTRACTOR, HOST_ADDRESS, API_SERVER_PORT, 3_000);
    assert.notEqual(result.outcome, 'open');
  });
});
