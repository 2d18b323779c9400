// The shell around local-volumes.ts: watches claims and volumes, makes and removes directories on
// the node's filesystem (the node shares the host's), and creates and deletes the volume objects.
// It runs beside the node's daemons for the cluster's lifetime.
import { chmod, mkdir, rm } from 'node:fs/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import {
  CoreV1Api,
  StorageV1Api,
  makeInformer,
  type Informer,
  type KubernetesObject,
  type V1PersistentVolume,
  type V1PersistentVolumeClaim,
} from '@kubernetes/client-node';
import {
  isReleased,
  storageClass,
  volumeFor,
  volumeNameFor,
  wantsVolume,
  type VolumeOptions,
} from './local-volumes.ts';

const statusOf = (error: unknown): number | undefined => (error as { code?: number }).code;

async function ignoring(codes: number[], work: Promise<unknown>): Promise<void> {
  try {
    await work;
  } catch (error) {
    if (!codes.includes(statusOf(error) ?? 0)) throw error;
  }
}

/** A watch that restarts itself after an error (a restarted API server, a dropped connection). */
function keepWatching<T extends KubernetesObject>(informer: Informer<T>, onError: (error: unknown) => void) {
  let stopped = false;
  informer.on('error', (error: unknown) => {
    if (stopped) return;
    onError(error);
    setTimeout(() => {
      if (!stopped) void informer.start().catch(onError);
    }, 1_000).unref();
  });
  return {
    start: () => informer.start(),
    stop: async () => {
      stopped = true;
      await informer.stop();
    },
  };
}

export interface Provisioner {
  stop(): Promise<void>;
}

export async function startProvisioner(
  kubeConfig: KubeConfig,
  options: VolumeOptions,
  log: (message: string) => void = () => {},
): Promise<Provisioner> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const storage = kubeConfig.makeApiClient(StorageV1Api);
  await mkdir(options.root, { recursive: true });
  await ignoring([409], storage.createStorageClass({ body: storageClass }));

  const busy = new Set<string>();
  const once = (key: string, work: () => Promise<void>) => {
    if (busy.has(key)) return;
    busy.add(key);
    work()
      .catch((error: unknown) => log(`${key}: ${(error as Error).message}`))
      .finally(() => busy.delete(key));
  };

  const provision = (claim: V1PersistentVolumeClaim) => {
    if (!wantsVolume(claim)) return;
    const name = volumeNameFor(claim);
    once(name, async () => {
      const dir = `${options.root}/${name}`;
      await mkdir(dir, { recursive: true });
      await chmod(dir, 0o1777);
      await ignoring([409], core.createPersistentVolume({ body: volumeFor(claim, options) }));
      log(`provisioned ${name} for ${claim.metadata!.namespace}/${claim.metadata!.name}`);
    });
  };
  const reclaim = (volume: V1PersistentVolume) => {
    if (!isReleased(volume)) return;
    const name = volume.metadata!.name!;
    once(name, async () => {
      await rm(`${options.root}/${name}`, { recursive: true, force: true });
      await ignoring([404], core.deletePersistentVolume({ name }));
      log(`deleted ${name}`);
    });
  };

  const claims = makeInformer<V1PersistentVolumeClaim>(kubeConfig, '/api/v1/persistentvolumeclaims', () =>
    core.listPersistentVolumeClaimForAllNamespaces(),
  );
  claims.on('add', provision);
  claims.on('update', provision);
  const volumes = makeInformer<V1PersistentVolume>(kubeConfig, '/api/v1/persistentvolumes', () =>
    core.listPersistentVolume(),
  );
  volumes.on('add', reclaim);
  volumes.on('update', reclaim);

  const onError = (error: unknown) => log(`watch failed, restarting: ${(error as Error)?.message ?? error}`);
  const watches = [keepWatching(claims, onError), keepWatching(volumes, onError)];
  await Promise.all(watches.map((w) => w.start()));
  return {
    async stop() {
      await Promise.all(watches.map((w) => w.stop()));
    },
  };
}
