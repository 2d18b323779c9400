// Against the shared test control plane: no node is needed to see a claim bound, released and
// cleaned up; kube-controller-manager's volume binder does the binding, as on a real cluster.
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CoreV1Api, StorageV1Api, type V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { createTestNamespace, testKubeConfig } from '../../testing/control-plane/index.ts';
import { waitFor } from '../../testing/support/wait.ts';
import { startProvisioner } from './provisioner.ts';
import { STORAGE_CLASS, volumeNameFor } from './local-volumes.ts';

test('a claim of the default class gets a volume of its own, removed with the claim', async (t) => {
  const namespace = await createTestNamespace(t);
  const root = await mkdtemp(join(tmpdir(), 'mtopo-volumes-'));
  const kubeConfig = testKubeConfig();
  const provisioner = await startProvisioner(kubeConfig, { root, nodeName: 'node-1' });
  // One hook, in this order: t.after hooks run in the order they were added, and the root removed
  // while the provisioner still made a directory failed (ENOTEMPTY), which skipped the later hooks
  // and left its watches holding the process open (a CI run hung there).
  t.after(async () => {
    await provisioner.stop();
    // The control plane is shared: leave no default class behind for other tests' claims.
    await kubeConfig.makeApiClient(StorageV1Api).deleteStorageClass({ name: STORAGE_CLASS });
    await rm(root, { recursive: true, force: true });
  });
  const core = kubeConfig.makeApiClient(CoreV1Api);

  // No storageClassName: the DefaultStorageClass admission plugin fills in ours.
  const created = await core.createNamespacedPersistentVolumeClaim({
    namespace,
    body: {
      metadata: { name: 'spool' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '200Gi' } } },
    },
  });
  assert.equal(created.spec?.storageClassName, STORAGE_CLASS);
  const volumeName = volumeNameFor(created);

  const bound = await waitFor(
    'the claim to be bound',
    async () => {
      const claim: V1PersistentVolumeClaim = await core.readNamespacedPersistentVolumeClaim({
        name: 'spool',
        namespace,
      });
      return claim.status?.phase === 'Bound' ? claim : undefined;
    },
    60_000,
  );
  assert.equal(bound.spec?.volumeName, volumeName);
  assert.equal(bound.status?.capacity?.storage, '200Gi');
  const dir = join(root, volumeName);
  assert.equal(statSync(dir).mode & 0o7777, 0o1777, 'any uid may write, as hostPath ignores fsGroup');

  await core.deleteNamespacedPersistentVolumeClaim({ name: 'spool', namespace });
  await waitFor(
    'the volume and its directory to go',
    async () => {
      const volumes = await core.listPersistentVolume();
      return !volumes.items.some((v) => v.metadata?.name === volumeName) && !existsSync(dir);
    },
    60_000,
  );
});
