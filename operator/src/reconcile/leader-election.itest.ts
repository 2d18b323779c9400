// Leader election against a real API server, with the one race that matters made deterministic:
// a renewal still in flight when the replica is told to stop. The client below holds a renewal's
// PUT back until the test lets it go, so the renewal lands exactly between the release's read and
// write of the Lease.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import { createTestNamespace, testKubeConfig, waitFor } from '../../../testing/control-plane/index.ts';
import { KubeClient } from './kube/rest-client.ts';
import { LeaderElector } from './leader-election.ts';

const admin = testKubeConfig();
const log = pino({ level: process.env.MTOPO_TEST_LOG ?? 'silent' });

type Lease = KubernetesObject & { spec?: { holderIdentity?: string } };

/** A real client whose next renewal PUT waits at a gate; its GETs are counted. */
class GatedClient extends KubeClient {
  gets = 0;
  #armed = false;
  #held: PromiseWithResolvers<void> | undefined;
  #open: PromiseWithResolvers<void> | undefined;

  /** The next renewal waits; resolves once it is waiting. */
  holdNextRenewal(): Promise<void> {
    this.#armed = true;
    this.#held = Promise.withResolvers<void>();
    this.#open = Promise.withResolvers<void>();
    return this.#held.promise;
  }

  letRenewalGo(): void {
    this.#open?.resolve();
  }

  override async get<T extends KubernetesObject>(
    kind: string,
    namespace: string | undefined,
    name: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<T | undefined> {
    this.gets++;
    return super.get<T>(kind, namespace, name, options);
  }

  override async replaceLease<T extends KubernetesObject>(
    lease: KubernetesObject,
    options: { signal?: AbortSignal } = {},
  ): Promise<T> {
    const renewal = (lease as Lease).spec?.holderIdentity !== '';
    if (!this.#armed || !renewal) return super.replaceLease<T>(lease, options);
    this.#armed = false;
    this.#held?.resolve();
    const aborted = Promise.withResolvers<void>();
    options.signal?.addEventListener('abort', () => aborted.resolve(), { once: true });
    await Promise.race([this.#open?.promise, aborted.promise]);
    // Already on the wire: the server applies it whether or not the caller still waits.
    const answer = await super.replaceLease<T>(lease);
    if (options.signal?.aborted) throw new DOMException('This operation was aborted', 'AbortError');
    return answer;
  }
}

describe('leader election on a real API server', () => {
  it('hands the lease back and never leads again when a renewal is in flight at stop', async (t) => {
    const namespace = await createTestNamespace(t);
    const client = new GatedClient(admin, { fieldManager: 'test' });
    const elector = new LeaderElector(client, {
      namespace,
      name: 'mtopo-operator',
      identity: 'replica-a',
      leaseDurationSeconds: 30,
      renewIntervalMs: 50,
      log,
    });
    let elected = 0;
    const campaign = elector.run(
      () => elected++,
      () => {},
    );
    await waitFor('elected', () => elected === 1);
    await client.holdNextRenewal();
    const getsBeforeStop = client.gets;
    const stopped = elector.stop();
    // Let the renewal land only once the release has read the Lease: the release's write then
    // carries a stale resourceVersion, unless the release waited for the campaign to end.
    await waitFor('the release read the Lease, or the campaign ended', async () => {
      if (client.gets > getsBeforeStop) return true;
      return Promise.race([campaign.then(() => true), new Promise<false>((r) => setTimeout(r, 20, false))]);
    });
    client.letRenewalGo();
    await stopped;
    await campaign;
    const lease = (await client.get('Lease', namespace, 'mtopo-operator')) as Lease;
    assert.equal(lease.spec?.holderIdentity, '', 'the lease is handed back');
    assert.equal(elected, 1, 'a renewal answering after stop does not elect the replica again');
    assert.equal(elector.leading, false);
  });

  it('retries the release when its first write conflicts', async (t) => {
    const namespace = await createTestNamespace(t);
    const client = new KubeClient(admin, { fieldManager: 'test' });
    let conflicts = 0;
    // A client whose first release PUT is preceded by another write to the Lease (say, a renewal
    // the server applied after the caller gave up on it): the release must read again and retry.
    const racing = new (class extends KubeClient {
      override async replaceLease<T extends KubernetesObject>(
        lease: KubernetesObject,
        options: { signal?: AbortSignal } = {},
      ): Promise<T> {
        if ((lease as Lease).spec?.holderIdentity === '' && conflicts === 0) {
          conflicts++;
          const live = (await client.get('Lease', namespace, 'mtopo-operator')) as Lease;
          await client.replaceLease({
            ...live,
            spec: { ...live.spec, leaseTransitions: 7 },
          } as KubernetesObject);
        }
        return super.replaceLease<T>(lease, options);
      }
    })(admin, { fieldManager: 'test' });
    const elector = new LeaderElector(racing, {
      namespace,
      name: 'mtopo-operator',
      identity: 'replica-a',
      leaseDurationSeconds: 30,
      renewIntervalMs: 50,
      log,
    });
    let elected = false;
    void elector.run(
      () => (elected = true),
      () => {},
    );
    await waitFor('elected', () => elected);
    await elector.stop();
    assert.equal(conflicts, 1);
    const lease = (await client.get('Lease', namespace, 'mtopo-operator')) as Lease;
    assert.equal(lease.spec?.holderIdentity, '');
  });
});
