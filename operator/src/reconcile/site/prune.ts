// Pruning: deleting the children a site owns but no longer wants (a relay removed, a pool's SMTP
// proxy turned off). Which ones is decided by ownership.ts `prunable`; deletes carry the uid as a
// precondition, so a same-named object created meanwhile survives.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { EventRecorder } from '../events.ts';
import type { KubeClient } from '../kube/rest-client.ts';
import { prunable } from '../ownership.ts';

export interface PruneRequest {
  readonly namespace: string;
  readonly siteName: string;
  /** The topology, for the events that say what was deleted. */
  readonly topology: KubernetesObject;
  /** The site's children as cached now. */
  readonly existing: readonly KubernetesObject[];
  /** "Kind/name" of every child the site wants. */
  readonly desiredKeys: ReadonlySet<string>;
  /** uids of the topology and of its members. */
  readonly siteUids: ReadonlySet<string>;
  /** uids of members whose spec is invalid: what they run is kept until they are fixed. */
  readonly protectedUids: ReadonlySet<string>;
}

export async function pruneSite(
  client: KubeClient,
  events: EventRecorder,
  log: Logger,
  request: PruneRequest,
): Promise<void> {
  const { namespace, siteName, existing, desiredKeys, siteUids, protectedUids } = request;
  for (const orphan of prunable(existing, desiredKeys, siteUids, protectedUids)) {
    const kind = orphan.kind ?? '';
    const name = orphan.metadata?.name ?? '';
    if (await client.delete(kind, namespace, name, orphan.metadata?.uid)) {
      log.info({ topology: `${namespace}/${siteName}`, kind, name }, 'pruned');
      await events.record(
        request.topology,
        'Normal',
        'Pruned',
        `Deleted ${kind} ${name}, no longer part of the topology`,
      );
    }
  }
}
