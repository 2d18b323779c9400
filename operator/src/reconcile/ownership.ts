// Which custom resource owns each rendered child, and which existing children may be pruned. Pure.
// A tier's objects belong to the resource the tier comes from, so deleting an MTARelay lets the
// garbage collector take its StatefulSet and Service; objects of the whole site (default deny, the
// certificate, the internal Secret) belong to the topology.
import type { KubernetesObject, V1OwnerReference } from '@kubernetes/client-node';
import { API_VERSION } from '../api/common.ts';
import { LABEL_TIER } from '../render/labels.ts';
import { allTiers, type OwnerRef, type Site } from '../render/site.ts';

export interface OwnerUids {
  topology: string;
  /** "MTARelay/name" or "MMPPool/name" → uid */
  members: ReadonlyMap<string, string>;
}

function reference(kind: string, name: string, uid: string): V1OwnerReference {
  return { apiVersion: API_VERSION, kind, name, uid, controller: true, blockOwnerDeletion: true };
}

/** The resource a rendered child belongs to: its tier's, or the topology for site-wide objects. */
export function ownerOfChild(site: Site, object: KubernetesObject): OwnerRef {
  const tierName = object.metadata?.labels?.[LABEL_TIER];
  const tier = tierName ? allTiers(site).find((t) => t.name === tierName) : undefined;
  return tier?.owner ?? { kind: 'MessagingTopology', name: site.topology.metadata.name };
}

export function withOwner(site: Site, object: KubernetesObject, uids: OwnerUids): KubernetesObject {
  const tierName = object.metadata?.labels?.[LABEL_TIER];
  const tier = tierName ? allTiers(site).find((t) => t.name === tierName) : undefined;
  let owner = reference('MessagingTopology', site.topology.metadata.name, uids.topology);
  if (tier && tier.owner.kind !== 'MessagingTopology') {
    const uid = uids.members.get(`${tier.owner.kind}/${tier.owner.name}`);
    if (uid) owner = reference(tier.owner.kind, tier.owner.name, uid);
  }
  return { ...object, metadata: { ...object.metadata, ownerReferences: [owner] } };
}

/**
 * Existing children to delete: ours (an owner reference to one of this site's resources), not
 * desired, and not owned by a resource whose spec is currently invalid (what runs is kept until
 * its owner is fixed).
 */
export function prunable(
  existing: readonly KubernetesObject[],
  desiredKeys: ReadonlySet<string>,
  siteUids: ReadonlySet<string>,
  protectedUids: ReadonlySet<string>,
): KubernetesObject[] {
  return existing.filter((o) => {
    if (desiredKeys.has(`${o.kind}/${o.metadata?.name}`)) return false;
    const owners = (o.metadata?.ownerReferences ?? []).filter((r) => r.apiVersion === API_VERSION);
    if (owners.length === 0) return false;
    if (owners.some((r) => protectedUids.has(r.uid))) return false;
    return owners.some((r) => siteUids.has(r.uid));
  });
}
