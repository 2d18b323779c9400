// What the operator keeps of each child in its caches, and how it tells that a child changed. Pure.
//
// A child is read for four things only: its identity and owners (pruning), its status (the site's
// status), whether it still holds what we applied (the "already as desired" check), and whether it
// changed since our last apply (the render skip). Keeping the whole object for that cost most of the
// operator's memory at scale (34 children a site, a StatefulSet alone several KiB with its pod
// template and defaults), so the cache keeps the metadata that answers those questions and the
// status, and drops the spec, the data and the field-ownership records. Of the kinds whose status
// is never read (all but STATUS_KINDS) the informers ask the API server for the metadata alone.
//
// "Still holds what we applied" is answered without the spec: the applier stamps each child with a
// hash of what it applied (APPLIED_HASH), and a child whose spec no other manager has written since
// (`managedFields` names none outside metadata and status) and whose labels and annotations still
// hold ours holds exactly that. A hand edit that only removes one of our fields leaves no other
// manager's name behind (the server drops a manager whose field set would be empty): it shows only
// as our own field set shrinking, so the cache keeps a digest of that set too (OWN_FIELDS).
import { createHash } from 'node:crypto';
import type { KubernetesObject, V1ManagedFieldsEntry } from '@kubernetes/client-node';

/** sha1 (base64) of the object the operator last applied, without this annotation. */
export const APPLIED_HASH = 'mtopo.dev/applied-hash';

/**
 * The child kinds whose status the operator reads (status.ts: a tier's StatefulSet or Deployment
 * for its ready replicas, its Service for the load balancer's addresses). Every other child kind is
 * listed and watched as metadata only (PartialObjectMetadata): its metadata answers all the
 * operator asks of it, hand edits included, since an edit by another hand shows in managedFields.
 */
export const STATUS_KINDS: ReadonlySet<string> = new Set(['StatefulSet', 'Deployment', 'Service']);

/** Where the projection keeps the digest of our own field set (not a Kubernetes field). */
export const OWN_FIELDS = 'mtopoOwnFields';

/** A managedFields entry reduced to who wrote it; its field set is dropped. */
export interface ForeignWriter {
  readonly manager: string;
  readonly operation: string;
}

/**
 * Whether a managedFields entry is another manager's write to what we apply. Writes to status (the
 * controllers' status subresource) and to metadata only (the Deployment controller's revision
 * annotation, the garbage collector's finalizers) leave our fields alone.
 */
function writesOurFields(entry: V1ManagedFieldsEntry, fieldManager: string): boolean {
  if (entry.manager === fieldManager) return false;
  if (entry.subresource === 'status') return false;
  const fields = Object.keys((entry.fieldsV1 ?? {}) as Record<string, unknown>);
  return fields.some((f) => f !== 'f:metadata' && f !== 'f:status');
}

/**
 * A digest of the fields we own (our managedFields entries outside status; 16 characters of a
 * sha1): it changes when a hand removes one of them. The API server writes a field set in one
 * sorted order, so the same set always gives the same digest.
 */
function ownFieldsDigest(entries: readonly V1ManagedFieldsEntry[], fieldManager: string): string {
  const ours = entries.filter((e) => e.manager === fieldManager && e.subresource !== 'status');
  if (ours.length === 0) return '';
  const hash = createHash('sha1');
  for (const entry of ours)
    hash.update(`${entry.operation ?? ''}\0${JSON.stringify(entry.fieldsV1 ?? {})}\0`);
  return hash.digest('base64').slice(0, 16);
}

/**
 * The child as the cache keeps it: identity, labels, annotations, owners, generation and status,
 * in `metadata.managedFields` only the other managers that wrote its fields (without their field
 * sets), and the digest of our own field set (OWN_FIELDS). Everything else is dropped. Takes a
 * whole object or its PartialObjectMetadata alike.
 */
export function projectChild(object: KubernetesObject, fieldManager: string): KubernetesObject {
  const meta = object.metadata ?? {};
  const foreign = (meta.managedFields ?? [])
    .filter((e) => writesOurFields(e, fieldManager))
    .map((e): ForeignWriter => ({ manager: e.manager ?? '', operation: e.operation ?? '' }));
  const own = ownFieldsDigest(meta.managedFields ?? [], fieldManager);
  const status = (object as { status?: unknown }).status;
  const projected = {
    apiVersion: object.apiVersion,
    kind: object.kind,
    metadata: {
      name: meta.name,
      namespace: meta.namespace,
      uid: meta.uid,
      resourceVersion: meta.resourceVersion,
      ...(meta.generation !== undefined ? { generation: meta.generation } : {}),
      ...(meta.labels ? { labels: meta.labels } : {}),
      ...(meta.annotations ? { annotations: meta.annotations } : {}),
      ...(meta.ownerReferences ? { ownerReferences: meta.ownerReferences } : {}),
      ...(meta.deletionTimestamp ? { deletionTimestamp: meta.deletionTimestamp } : {}),
      ...(foreign.length > 0 ? { managedFields: foreign } : {}),
    },
    ...(status !== undefined ? { status } : {}),
    ...(own ? { [OWN_FIELDS]: own } : {}),
  };
  return projected as KubernetesObject;
}

/** The digest of our own field set, of a projected child ('' for anything else). */
export function ownFieldsOf(object: KubernetesObject): string {
  return (object as { [OWN_FIELDS]?: string })[OWN_FIELDS] ?? '';
}

const sorted = (record: Record<string, string> | undefined) =>
  record
    ? Object.keys(record)
        .sort()
        .map((k) => `${k}=${record[k]}`)
    : [];

/**
 * What a child's spec, labels and annotations are at: its generation (which the API server bumps
 * on every spec change and never on a status write) with its labels and annotations, for kinds that
 * have one; its resourceVersion otherwise (a ConfigMap or Service changes it only when it changes);
 * and, for a projected child, the digest of our own field set (an owner reference removed by hand
 * changes neither generation, labels nor annotations). A rollout's status updates leave it as it
 * was, so they cause no render.
 */
export function childVersion(object: KubernetesObject): string {
  const meta = object.metadata ?? {};
  const at = meta.generation !== undefined ? `g${meta.generation}` : `r${meta.resourceVersion ?? ''}`;
  // Only while no other manager writes our fields: one that does (a GitOps tool applying the same
  // render) takes atomic fields over on each of its applies, which shrinks our set with nothing
  // removed, and it keeps those fields itself.
  const own = (meta.managedFields ?? []).length === 0 ? ownFieldsOf(object) : '';
  return JSON.stringify([at, sorted(meta.labels), sorted(meta.annotations), ...(own ? [own] : [])]);
}

const holdsAll = (live: Record<string, string> | undefined, wanted: Record<string, string> | undefined) =>
  Object.entries(wanted ?? {}).every(([k, v]) => live?.[k] === v);

/**
 * Whether the child still holds `desired`, which we applied with `hash`: stamped so, no other
 * manager wrote its spec or data since, and its labels and annotations (which the cache keeps, and
 * which others may write beside ours) still hold ours. `ownFields`, when known (the digest our last
 * apply left), must still be the child's: else a hand removed one of our fields.
 */
export function holdsApplied(
  live: KubernetesObject,
  desired: KubernetesObject,
  hash: string,
  ownFields?: string,
): boolean {
  const meta = live.metadata ?? {};
  return (
    meta.annotations?.[APPLIED_HASH] === hash &&
    (meta.managedFields ?? []).length === 0 &&
    (ownFields === undefined || ownFieldsOf(live) === ownFields) &&
    holdsAll(meta.labels, desired.metadata?.labels) &&
    holdsAll(meta.annotations, desired.metadata?.annotations)
  );
}
