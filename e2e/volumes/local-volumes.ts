// Dynamic volumes for the single test node, as a cloud's storage class provides them: a claim of the
// node's default class gets a hostPath volume of its own under one directory, bound to it alone; when
// the claim is deleted the volume is released, and its directory is removed.
//
// The pods run as non-root with fsGroup, which hostPath volumes ignore, so each directory is made
// writable by every uid (mode 1777, like /tmp): acceptable on a throwaway test node, and said so.
import type { V1PersistentVolume, V1PersistentVolumeClaim } from '@kubernetes/client-node';

export const STORAGE_CLASS = 'e2e-local';
export const PROVISIONER = 'e2e.mtopo.dev/local-volumes';

export interface VolumeOptions {
  /** Where the node keeps volume directories (on the node's filesystem). */
  readonly root: string;
  readonly nodeName: string;
}

/** The volume's name: one per claim, stable, so a restarted provisioner never makes two. */
export const volumeNameFor = (claim: V1PersistentVolumeClaim): string => `pvc-${claim.metadata!.uid!}`;

/** Whether this provisioner should make a volume for the claim. */
export function wantsVolume(claim: V1PersistentVolumeClaim): boolean {
  const className =
    claim.spec?.storageClassName ?? claim.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'];
  return (
    className === STORAGE_CLASS &&
    claim.status?.phase === 'Pending' &&
    !claim.spec?.volumeName &&
    claim.metadata?.deletionTimestamp === undefined
  );
}

/** The volume for a claim: its requested size, its access modes, bound to it by claimRef. */
export function volumeFor(claim: V1PersistentVolumeClaim, options: VolumeOptions): V1PersistentVolume {
  const name = volumeNameFor(claim);
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name,
      labels: { 'e2e.mtopo.dev/claim-namespace': claim.metadata!.namespace! },
      annotations: { 'pv.kubernetes.io/provisioned-by': PROVISIONER },
    },
    spec: {
      storageClassName: STORAGE_CLASS,
      capacity: { storage: claim.spec?.resources?.requests?.storage ?? '1Gi' },
      accessModes: claim.spec?.accessModes ?? ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Delete',
      volumeMode: 'Filesystem',
      claimRef: {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        namespace: claim.metadata!.namespace!,
        name: claim.metadata!.name!,
        uid: claim.metadata!.uid!,
      },
      hostPath: { path: `${options.root}/${name}`, type: 'DirectoryOrCreate' },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            {
              matchExpressions: [
                { key: 'kubernetes.io/hostname', operator: 'In', values: [options.nodeName] },
              ],
            },
          ],
        },
      },
    },
  };
}

/** A volume of ours whose claim is gone: delete it and its directory. */
export function isReleased(volume: V1PersistentVolume): boolean {
  return (
    volume.metadata?.annotations?.['pv.kubernetes.io/provisioned-by'] === PROVISIONER &&
    (volume.status?.phase === 'Released' || volume.status?.phase === 'Failed')
  );
}

export const storageClass = {
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: {
    name: STORAGE_CLASS,
    annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
  },
  provisioner: PROVISIONER,
  reclaimPolicy: 'Delete',
  volumeBindingMode: 'Immediate',
  allowVolumeExpansion: false,
};
