import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { STORAGE_CLASS, volumeFor, wantsVolume } from './local-volumes.ts';

const claim = (spec: V1PersistentVolumeClaim['spec'], phase = 'Pending'): V1PersistentVolumeClaim => ({
  metadata: { name: 'spool-edge-0', namespace: 'mail', uid: 'u-1' },
  spec,
  status: { phase },
});

describe('local volumes', () => {
  it('takes pending claims of its own class only', () => {
    assert.equal(wantsVolume(claim({ storageClassName: STORAGE_CLASS })), true);
    assert.equal(wantsVolume(claim({ storageClassName: 'fast-ssd' })), false);
    assert.equal(wantsVolume(claim({})), false, 'no class yet: the admission plugin or the binder decides');
    assert.equal(wantsVolume(claim({ storageClassName: STORAGE_CLASS }, 'Bound')), false);
    assert.equal(wantsVolume(claim({ storageClassName: STORAGE_CLASS, volumeName: 'pv-x' })), false);
  });

  it('makes a volume bound to that claim alone, of the size asked, on the node', () => {
    const volume = volumeFor(
      claim({ storageClassName: STORAGE_CLASS, resources: { requests: { storage: '5Gi' } } }),
      { root: '/var/lib/e2e', nodeName: 'n1' },
    );
    assert.deepEqual(volume.spec?.claimRef, {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      namespace: 'mail',
      name: 'spool-edge-0',
      uid: 'u-1',
    });
    assert.equal(volume.spec?.capacity?.storage, '5Gi');
    assert.equal(volume.spec?.hostPath?.path, '/var/lib/e2e/pvc-u-1');
    assert.deepEqual(
      volume.spec?.nodeAffinity?.required?.nodeSelectorTerms[0]?.matchExpressions?.[0]?.values,
      ['n1'],
    );
  });
});
