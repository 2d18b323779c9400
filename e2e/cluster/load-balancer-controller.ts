// Gives Services of type LoadBalancer an address, as a cloud's controller would: from the pool on
// the node's bridge network (plan.ts), written to status.loadBalancer, and answered for by the node
// (the address on the node namespace's loopback, so it replies to ARP on the bridge and the host's
// route through the veth lands there; kube-proxy's rules then carry the connection to a pod).
// Runs inside the process that started the node; assignment rules are in load-balancer-pool.ts.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Informer } from '../../operator/src/reconcile/informer.ts';
import type { KubeClient } from '../../operator/src/reconcile/kube/rest-client.ts';
import { inNodeNetwork } from './machine.ts';
import {
  addressChanges,
  assignAddresses,
  poolContains,
  type LoadBalancerService,
} from './load-balancer-pool.ts';
import { LOAD_BALANCER_POOL } from './plan.ts';

interface ServiceObject extends KubernetesObject {
  spec?: { type?: string; loadBalancerIP?: string; loadBalancerClass?: string };
  status?: { loadBalancer?: { ingress?: { ip?: string }[] } };
}

function toLoadBalancerService(service: ServiceObject): LoadBalancerService {
  return {
    key: `${service.metadata?.namespace ?? ''}/${service.metadata?.name ?? ''}`,
    created: String(service.metadata?.creationTimestamp ?? ''),
    current: service.status?.loadBalancer?.ingress?.[0]?.ip,
    requested: service.spec?.loadBalancerIP,
  };
}

/** Addresses of the pool on the node namespace's loopback now. */
async function announcedAddresses(): Promise<string[]> {
  const out = await inNodeNetwork('ip', ['-4', '-o', 'addr', 'show', 'dev', 'lo']);
  return [...out.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\/32/g)]
    .map((match) => match[1] ?? '')
    .filter((address) => poolContains(LOAD_BALANCER_POOL, address));
}

export class LoadBalancerController {
  readonly #client: KubeClient;
  readonly #log: Logger;
  readonly #informer: Informer;
  #pending: Promise<void> = Promise.resolve();
  #again = false;
  #running = false;

  constructor(client: KubeClient, log: Logger) {
    this.#client = client;
    this.#log = log;
    this.#informer = new Informer(client, {
      kind: 'Service',
      namespace: undefined,
      onChange: () => this.#schedule(),
      onRestart: (kind, reason) => log.warn({ kind, reason }, 'watch restarted'),
      log,
    });
  }

  async start(): Promise<void> {
    this.#informer.start();
    await this.#informer.waitForSync();
    this.#schedule();
  }

  async stop(): Promise<void> {
    await this.#informer.stop();
    await this.#pending;
  }

  /** One reconcile at a time; changes during one make exactly one more. */
  #schedule(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    this.#pending = (async () => {
      do {
        this.#again = false;
        try {
          await this.#reconcile();
        } catch (error) {
          this.#log.error({ err: error }, 'load balancer reconcile failed; retrying');
          this.#again = true;
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
      } while (this.#again && this.#informer.synced);
      this.#running = false;
    })();
  }

  async #reconcile(): Promise<void> {
    const services = (this.#informer.list() as ServiceObject[]).filter(
      // Another implementation's Services (spec.loadBalancerClass set) are not ours.
      (service) => service.spec?.type === 'LoadBalancer' && service.spec.loadBalancerClass === undefined,
    );
    const { addresses, unassigned } = assignAddresses(
      services.map(toLoadBalancerService),
      LOAD_BALANCER_POOL,
    );
    // Answer for an address before publishing it, so a client that reads the status can connect.
    const changes = addressChanges(addresses.values(), await announcedAddresses());
    for (const address of changes.add)
      await inNodeNetwork('ip', ['addr', 'add', `${address}/32`, 'dev', 'lo']);
    for (const service of services) {
      const { key, current } = toLoadBalancerService(service);
      const address = addresses.get(key);
      if (address === undefined) {
        this.#log.warn({ service: key, reason: unassigned.get(key) }, 'no load balancer address');
        continue;
      }
      if (current === address && service.status?.loadBalancer?.ingress?.length === 1) continue;
      await this.#client.applyStatus({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: service.metadata?.name ?? '', namespace: service.metadata?.namespace ?? '' },
        status: { loadBalancer: { ingress: [{ ip: address, ipMode: 'VIP' }] } },
      } as KubernetesObject);
      this.#log.info({ service: key, address }, 'load balancer address assigned');
    }
    for (const address of changes.remove)
      await inNodeNetwork('ip', ['addr', 'del', `${address}/32`, 'dev', 'lo']);
  }
}
