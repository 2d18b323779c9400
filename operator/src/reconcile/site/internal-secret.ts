// The credentials tiers use between themselves: generated once, never rendered, never logged,
// never read back. Creating it blind (a 409 means it exists) spares the operator any right to read
// Secrets.
import { randomBytes } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { topologyLabels } from '../../render/labels.ts';
import { INTERNAL_KEYS, internalSecretName } from '../../render/secrets.ts';
import type { Finding, Site } from '../../render/site.ts';
import type { KubeClient } from '../kube/rest-client.ts';
import { withOwner, type OwnerUids } from '../ownership.ts';
import { describeApplyError } from './apply-errors.ts';

export class InternalSecrets {
  readonly #client: KubeClient;
  /** Topologies (by uid) whose internal Secret is known to exist: created, or found by a 409. */
  readonly #known = new Set<string>();

  constructor(client: KubeClient) {
    this.#client = client;
  }

  /** Creates the Secret unless known to exist; an error is returned, addressed to the topology. */
  async ensure(site: Site, uids: OwnerUids): Promise<Finding | undefined> {
    if (this.#known.has(uids.topology)) return undefined;
    const name = internalSecretName(site);
    const secret = withOwner(
      site,
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace: site.namespace, labels: topologyLabels(site) },
        type: 'Opaque',
        stringData: {
          [INTERNAL_KEYS.storeProxyPassword]: randomBytes(32).toString('base64url'),
          [INTERNAL_KEYS.xclientSecret]: randomBytes(32).toString('base64url'),
        },
      } as KubernetesObject,
      uids,
    );
    try {
      await this.#client.create(secret);
      this.#known.add(uids.topology);
    } catch (error) {
      if ((error as { status?: number }).status === 409) this.#known.add(uids.topology);
      else
        return {
          owner: { kind: 'MessagingTopology', name: site.topology.metadata.name },
          message: describeApplyError('Secret', name, error),
        };
    }
    return undefined;
  }

  /** The topology is gone: its Secret goes with it (garbage collection), and so does our note. */
  forget(topologyUid: string): void {
    this.#known.delete(topologyUid);
  }
}
