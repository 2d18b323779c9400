// The node's default storage class on the real node: a non-root pod writes to its claim's volume,
// the data outlives the pod, and the volume goes with the claim.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { kubectl } from '../../testing/control-plane/kubectl.ts';
import { waitFor } from '../../testing/support/wait.ts';
import {
  apply,
  deleteNamespace,
  exec,
  jsonpath,
  testNamespace,
  testPod,
  waitReady,
  WAIT,
} from '../support.ts';

const writer = (name: string) =>
  testPod(name, {}, 'echo kept-$(id -u) >> /data/log; exec sleep 100000', {
    user: 10001,
    volumes: [{ name: 'data', claimName: 'data', mountPath: '/data' }],
  });

describe('volumes of the default storage class', () => {
  let namespace = '';
  before(async () => {
    namespace = await testNamespace('volumes');
  });
  after(() => deleteNamespace(namespace));

  test('a claim is bound, written by a non-root pod, kept across pods, and removed with the claim', async () => {
    await apply(namespace, [
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'data' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      },
      writer('first'),
    ]);
    await waitReady(namespace, 'first');
    await kubectl(['-n', namespace, 'delete', 'pod', 'first', '--wait=true'], { timeoutMs: 120_000 });
    await apply(namespace, [writer('second')]);
    await waitReady(namespace, 'second');
    const log = await exec(namespace, 'second', ['cat', '/data/log']);
    assert.equal(log.stdout, 'kept-10001\nkept-10001\n');

    const volume = await jsonpath(namespace, 'pvc/data', '{.spec.volumeName}');
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
