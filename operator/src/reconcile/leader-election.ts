// Leader election with a coordination.k8s.io Lease, as client-go does it: the holder renews before
// the lease duration runs out; another replica takes over only after it has expired. Writes use the
// Lease's resourceVersion, so two candidates racing for an expired lease cannot both win.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { KubeApiError, type KubeClient } from './kube/rest-client.ts';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds: number;
  renewIntervalMs: number;
  log: Logger;
}

interface Lease extends KubernetesObject {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

const microTime = (date: Date) => date.toISOString().replace('Z', '000Z');

export class LeaderElector {
  readonly #client: KubeClient;
  readonly #options: LeaderElectionOptions;
  #leading = false;
  #stopped = false;

  constructor(client: KubeClient, options: LeaderElectionOptions) {
    this.#client = client;
    this.#options = options;
  }

  get leading(): boolean {
    return this.#leading;
  }

  /** One attempt to acquire or renew; true while this replica holds the lease. */
  async tryAcquireOrRenew(now = new Date()): Promise<boolean> {
    const { namespace, name, identity, leaseDurationSeconds } = this.#options;
    const lease = (await this.#client.get('Lease', namespace, name)) as Lease | undefined;
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds,
      renewTime: microTime(now),
    };
    if (!lease) {
      try {
        await this.#client.create({
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: { ...spec, acquireTime: microTime(now), leaseTransitions: 0 },
        } as KubernetesObject);
        return true;
      } catch (error) {
        if (error instanceof KubeApiError && error.status === 409) return false;
        throw error;
      }
    }
    const held = lease.spec?.holderIdentity;
    const renewed = Date.parse(lease.spec?.renewTime ?? '') || 0;
    const expired =
      renewed + (lease.spec?.leaseDurationSeconds ?? leaseDurationSeconds) * 1000 < now.getTime();
    if (held && held !== identity && !expired) return false;
    const taking = held !== identity;
    try {
      await this.#client.replaceLease({
        ...lease,
        spec: {
          ...lease.spec,
          ...spec,
          ...(taking
            ? { acquireTime: microTime(now), leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + 1 }
            : {}),
        },
      } as KubernetesObject);
      return true;
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 409) return false;
      throw error;
    }
  }

  /**
   * Campaigns until elected, then renews; calls `onLost` if a renewal fails for longer than the
   * lease lasts (another replica may then lead, so this one must stop at once).
   */
  async run(onElected: () => void, onLost: () => void): Promise<void> {
    const { renewIntervalMs, leaseDurationSeconds, log } = this.#options;
    let lastRenewal = 0;
    while (!this.#stopped) {
      let holds = false;
      try {
        holds = await this.tryAcquireOrRenew();
      } catch (error) {
        log.warn({ err: (error as Error).message }, 'lease update failed');
      }
      if (holds) {
        lastRenewal = Date.now();
        if (!this.#leading) {
          this.#leading = true;
          log.info({ identity: this.#options.identity }, 'became leader');
          onElected();
        }
      } else if (this.#leading && Date.now() - lastRenewal > leaseDurationSeconds * 1000 * 0.8) {
        this.#leading = false;
        log.error('lost the leader lease');
        onLost();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, renewIntervalMs).unref());
    }
  }

  /** Gives the lease up on a clean shutdown so a standby takes over without waiting for expiry. */
  async release(): Promise<void> {
    this.#stopped = true;
    if (!this.#leading) return;
    this.#leading = false;
    const { namespace, name } = this.#options;
    const lease = (await this.#client.get('Lease', namespace, name)) as Lease | undefined;
    if (lease?.spec?.holderIdentity !== this.#options.identity) return;
    await this.#client
      .replaceLease({
        ...lease,
        spec: { ...lease.spec, holderIdentity: '', renewTime: microTime(new Date(0)) },
      } as KubernetesObject)
      .catch(() => undefined);
  }
}
