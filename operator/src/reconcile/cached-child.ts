// What the operator keeps of each child in its caches, and how it tells that a child changed. Pure.
//
// A child is read for four things only: its identity and owners (pruning), its status (the site's
// status), whether it still holds what we applied (the "already as desired" check), and whether it
// changed since our last apply (the render skip). Keeping the whole object for that cost most of the
// operator's memory at scale (34 children a site, a StatefulSet alone several KiB with its pod
// template and defaults), so the cache keeps the metadata that answers those questions and the
// status, and drops the spec, the data and the field-ownership records.
//
// "Still holds what we applied" is answered without the spec: the applier stamps each child with a
// hash of what it applied (APPLIED_HASH), and a child whose spec no other manager has written since
// (`managedFields` names none outside metadata and status) and whose labels and annotations still
// hold ours holds exactly that.
import type { KubernetesObject, V1ManagedFieldsEntry } from '@kubernetes/client-node';

/** sha1 (base64) of the object the operator last applied, without this annotation. */
export const APPLIED_HASH = 'mtopo.dev/applied-hash';

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
 * The child as the cache keeps it: identity, labels, annotations, owners, generation and status,
 * and in `metadata.managedFields` only the other managers that wrote its fields (without their
 * field sets). Everything else is dropped.
 */
export function projectChild(object: KubernetesObject, fieldManager: string): KubernetesObject {
  const meta = object.metadata ?? {};
  const foreign = (meta.managedFields ?? [])
    .filter((e) => writesOurFields(e, fieldManager))
    .map((e): ForeignWriter => ({ manager: e.manager ?? '', operation: e.operation ?? '' }));
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
  };
  return projected as KubernetesObject;
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
 * have one; its resourceVersion otherwise (a ConfigMap or Service changes it only when it changes).
 * A rollout's status updates leave it as it was, so they cause no render.
 */
export function childVersion(object: KubernetesObject): string {
  const meta = object.metadata ?? {};
  const at = meta.generation !== undefined ? `g${meta.generation}` : `r${meta.resourceVersion ?? ''}`;
  return JSON.stringify([at, sorted(meta.labels), sorted(meta.annotations)]);
}

const holdsAll = (live: Record<string, string> | undefined, wanted: Record<string, string> | undefined) =>
  Object.entries(wanted ?? {}).every(([k, v]) => live?.[k] === v);

/**
 * Whether the child still holds `desired`, which we applied with `hash`: stamped so, no other
 * manager wrote its spec or data since, and its labels and annotations (which the cache keeps, and
 * which others may write beside ours) still hold ours.
 */
export function holdsApplied(live: KubernetesObject, desired: KubernetesObject, hash: string): boolean {
  const meta = live.metadata ?? {};
  return (
    meta.annotations?.[APPLIED_HASH] === hash &&
    (meta.managedFields ?? []).length === 0 &&
    holdsAll(meta.labels, desired.metadata?.labels) &&
    holdsAll(meta.annotations, desired.metadata?.annotations)
  );
}
