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

/** How often a release retries when a write of its own (an aborted renewal) bumped the Lease. */
const RELEASE_ATTEMPTS = 5;

export class LeaderElector {
  readonly #client: KubeClient;
  readonly #options: LeaderElectionOptions;
  /** Aborts the campaign: its in-flight request and its pause between attempts. */
  readonly #stop = new AbortController();
  #leading = false;
  #campaign: Promise<void> | undefined;

  constructor(client: KubeClient, options: LeaderElectionOptions) {
    this.#client = client;
    this.#options = options;
  }

  get leading(): boolean {
    return this.#leading;
  }

  /** One attempt to acquire or renew; true while this replica holds the lease. */
  async tryAcquireOrRenew(now = new Date(), signal?: AbortSignal): Promise<boolean> {
    const { namespace, name, identity, leaseDurationSeconds } = this.#options;
    const request = signal ? { signal } : {};
    const lease = (await this.#client.get('Lease', namespace, name, request)) as Lease | undefined;
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds,
      renewTime: microTime(now),
    };
    if (!lease) {
      try {
        await this.#client.create(
          {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name, namespace },
            spec: { ...spec, acquireTime: microTime(now), leaseTransitions: 0 },
          } as KubernetesObject,
          request,
        );
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
      await this.#client.replaceLease(
        {
          ...lease,
          spec: {
            ...lease.spec,
            ...spec,
            ...(taking
              ? { acquireTime: microTime(now), leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + 1 }
              : {}),
          },
        } as KubernetesObject,
        request,
      );
      return true;
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 409) return false;
      throw error;
    }
  }

  /**
   * Campaigns until elected, then renews; calls `onLost` if a renewal fails for longer than the
   * lease lasts (another replica may then lead, so this one must stop at once). Ends when `stop()`
   * is called: an attempt that answers after that never elects this replica again.
   */
  run(onElected: () => void, onLost: () => void): Promise<void> {
    this.#campaign ??= this.#run(onElected, onLost);
    return this.#campaign;
  }

  async #run(onElected: () => void, onLost: () => void): Promise<void> {
    const { renewIntervalMs, leaseDurationSeconds, log } = this.#options;
    const signal = this.#stop.signal;
    let lastRenewal = 0;
    while (!signal.aborted) {
      let holds = false;
      try {
        holds = await this.tryAcquireOrRenew(new Date(), signal);
      } catch (error) {
        if (signal.aborted) break;
        log.warn({ err: (error as Error).message }, 'lease update failed');
      }
      if (signal.aborted) break;
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
      await pause(renewIntervalMs, signal);
    }
  }

  /**
   * Ends the campaign, then gives the lease up so a standby takes over without waiting for expiry.
   * The campaign goes first: a renewal still in flight would otherwise bump the Lease between the
   * release's read and write. Even an aborted renewal may have reached the server, so the release
   * reads the Lease afresh and retries on a conflict.
   */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#campaign;
    this.#leading = false;
    const { namespace, name, identity, log } = this.#options;
    for (let attempt = 1; attempt <= RELEASE_ATTEMPTS; attempt++) {
      try {
        const lease = (await this.#client.get('Lease', namespace, name)) as Lease | undefined;
        if (lease?.spec?.holderIdentity !== identity) return;
        await this.#client.replaceLease({
          ...lease,
          spec: { ...lease.spec, holderIdentity: '', renewTime: microTime(new Date(0)) },
        } as KubernetesObject);
        log.info({ identity }, 'released the leader lease');
        return;
      } catch (error) {
        // Anything but a conflict (an unreachable API server, too) ends the release: the lease
        // then expires on its own, and stopping must not wait for a server that may never answer.
        if (!(error instanceof KubeApiError && error.status === 409) || attempt === RELEASE_ATTEMPTS) {
          log.warn({ err: (error as Error).message }, 'could not release the leader lease; it expires');
          return;
        }
      }
    }
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => (clearTimeout(timer), resolve());
    const timer = setTimeout(() => (signal.removeEventListener('abort', done), resolve()), ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
