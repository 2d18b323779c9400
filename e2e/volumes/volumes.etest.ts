// The node's default storage class on the real node: a non-root pod writes to its claim's volume,
// the data outlives the pod, and the volume goes with the claim.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { kubectl } from '../../testing/control-plane/kubectl.ts';
import { TEST_NAMESPACE_LABEL } from '../../testing/control-plane/namespace.ts';
import { waitFor } from '../../testing/support/wait.ts';
import { TEST_IMAGE } from '../test-image.ts';

const WAIT = { timeoutMs: 240_000, intervalMs: 500 };

const writer = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: {
    terminationGracePeriodSeconds: 1,
    securityContext: {
      runAsUser: 10001,
      runAsGroup: 10001,
      fsGroup: 10001,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    containers: [
      {
        name: 'main',
        image: TEST_IMAGE,
        imagePullPolicy: 'Never',
        command: ['sh', '-c', 'echo kept-$(id -u) >> /data/log; exec sleep 100000'],
        securityContext: {
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        },
        volumeMounts: [{ name: 'data', mountPath: '/data' }],
      },
    ],
    volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
  },
});

describe('volumes of the default storage class', () => {
  const namespace = `volumes-${randomBytes(3).toString('hex')}`;
  const apply = (objects: object[]) =>
    kubectl(['-n', namespace, 'apply', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
    });
  const ready = (pod: string) =>
    kubectl(['-n', namespace, 'wait', '--for=condition=Ready', '--timeout=300s', `pod/${pod}`], {
      timeoutMs: 320_000,
    });

  before(async () => {
    await kubectl(['create', 'namespace', namespace]);
    await kubectl(['label', 'namespace', namespace, `${TEST_NAMESPACE_LABEL}=true`]);
  });
  after(() => kubectl(['delete', 'namespace', namespace, '--wait=false'], { check: false }));

  test('a claim is bound, written by a non-root pod, kept across pods, and removed with the claim', async () => {
    await apply([
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'data' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      },
      writer('first'),
    ]);
    await ready('first');
    await kubectl(['-n', namespace, 'delete', 'pod', 'first', '--wait=true'], { timeoutMs: 120_000 });
    await apply([writer('second')]);
    await ready('second');
    const log = await kubectl(['-n', namespace, 'exec', 'second', '--', 'cat', '/data/log']);
    assert.equal(log.stdout, 'kept-10001\nkept-10001\n');

    const volume = (
      await kubectl(['-n', namespace, 'get', 'pvc', 'data', '-o', 'jsonpath={.spec.volumeName}'])
    ).stdout.trim();
    assert.match(volume, /^pvc-/);
    await kubectl(['-n', namespace, 'delete', 'pod', 'second', '--wait=true'], { timeoutMs: 120_000 });
    await kubectl(['-n', namespace, 'delete', 'pvc', 'data', '--wait=true'], { timeoutMs: 120_000 });
    await waitFor(
      'the volume to be deleted with its claim',
      async () => (await kubectl(['get', 'pv', volume], { check: false })).exitCode !== 0,
      WAIT,
    );
  });
});
