// Turns untrusted documents (YAML files, objects from the API server) into typed resources with
// defaults applied, or into problems that name the field and say what is allowed.
import type { z } from 'zod';
import { API_VERSION } from './common.ts';
import { messagingTopology, type MessagingTopology } from './messaging-topology.ts';
import { mmpPool, type MMPPool } from './mmp-pool.ts';
import { mtaRelay, type MTARelay } from './mta-relay.ts';

export type Resource = MessagingTopology | MTARelay | MMPPool;

export interface Problem {
  /** Which document: "MTARelay/edge" or "document 3" when it has no kind or name. */
  object: string;
  /** JSON path of the field, as kubectl prints it: "spec.service.type". */
  field: string;
  message: string;
}

export type ParseResult = { ok: true; resource: Resource } | { ok: false; problems: Problem[] };

const schemas = { MessagingTopology: messagingTopology, MTARelay: mtaRelay, MMPPool: mmpPool } as const;

export function isOurKind(doc: unknown): boolean {
  if (typeof doc !== 'object' || doc === null) return false;
  const { apiVersion, kind } = doc as Record<string, unknown>;
  return apiVersion === API_VERSION && typeof kind === 'string' && kind in schemas;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out || '(root)';
}

function describeIssue(issue: z.core.$ZodIssue): string {
  // A map key that fails its own schema: say what the key must be, not just that it is invalid.
  if (issue.code === 'invalid_key' && issue.issues[0]) return describeIssue(issue.issues[0]);
  if (issue.code === 'invalid_value' && 'values' in issue) {
    return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  if (issue.code === 'invalid_type' && issue.message.includes('received undefined')) return 'is required';
  return issue.message;
}

export function parseResource(doc: unknown, index: number): ParseResult {
  const record = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>;
  const kind = typeof record.kind === 'string' ? record.kind : undefined;
  const name = (record.metadata as { name?: unknown } | undefined)?.name;
  const object = kind && typeof name === 'string' ? `${kind}/${name}` : `document ${index + 1}`;
  if (record.apiVersion !== API_VERSION || !kind || !(kind in schemas)) {
    return {
      ok: false,
      problems: [
        {
          object,
          field: 'kind',
          message: `is not an mtopo kind: expected apiVersion ${API_VERSION} and kind MessagingTopology, MTARelay or MMPPool`,
        },
      ],
    };
  }
  const result = schemas[kind as keyof typeof schemas].safeParse(doc);
  if (result.success) return { ok: true, resource: result.data };
  return {
    ok: false,
    // An unknown field is reported at its own path, as kubectl does: "spec.replica", not "spec".
    problems: result.error.issues.flatMap((issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => ({
            object,
            field: formatPath([...issue.path, key]),
            message: 'is not a field of this kind; check its spelling in docs/api.md',
          }))
        : [{ object, field: formatPath(issue.path), message: describeIssue(issue) }],
    ),
  };
}
