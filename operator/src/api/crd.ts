// zod schemas → CustomResourceDefinitions. The API server accepts only *structural* OpenAPI v3
// schemas (every node typed, no $ref, properties and additionalProperties never together, unions
// only as extra validation), so the JSON Schema zod produces is converted node by node, and anything
// this converter does not know how to express is an error at generation time rather than a CRD the
// API server refuses at install time.
// https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#specifying-a-structural-schema
import { z } from 'zod';
import { CATEGORY, GROUP, VERSION, type KindDefinition, type PrinterColumn } from './kinds.ts';

/** An OpenAPI v3 schema as apiextensions.k8s.io/v1 JSONSchemaProps spells it. */
export type JSONSchemaProps = { [keyword: string]: unknown };

export interface ConvertOptions {
  /**
   * Keep `x-mtopo-pattern-message`: the words a zod regex check says when it fails ("must be a
   * duration such as …"), for docs/api.md. Never in a CRD: the API server does not know the keyword.
   */
  annotate?: boolean;
}

export const PATTERN_MESSAGE = 'x-mtopo-pattern-message';

/** The bounds zod writes for z.int() without bounds of its own; they only mean "a JS safe integer". */
const SAFE_INTEGER_BOUNDS = new Set([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);

/** Formats the API server validates or knows; anything else zod might emit is left out. */
const KNOWN_FORMATS = new Set(['int32', 'int64', 'float', 'double', 'byte', 'date', 'date-time', 'duration']);

/** Keywords copied unchanged when present, in this order (the order of the keys in the YAML). */
const VALUE_KEYWORDS = [
  'default',
  'enum',
  'minimum',
  'exclusiveMinimum',
  'maximum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
] as const;

const KUBERNETES_EXTENSIONS = [
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
] as const;

/** JSON Schema keywords zod emits that carry no meaning for the API server and are dropped. */
const DROPPED_KEYWORDS = new Set(['$schema', 'title', 'examples', 'propertyNames', 'id', '$id', '$comment']);

const HANDLED_KEYWORDS = new Set<string>([
  'type',
  'format',
  'description',
  'nullable',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'anyOf',
  'oneOf',
  'const',
  '$ref',
  '$defs',
  'definitions',
  PATTERN_MESSAGE,
  ...VALUE_KEYWORDS,
  ...KUBERNETES_EXTENSIONS,
]);

type JSONValue = unknown;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeOfValue(value: JSONValue): string {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  throw new Error(`cannot type enum value ${JSON.stringify(value)}`);
}

class UnsupportedSchema extends Error {
  constructor(path: string, what: string) {
    super(`${path || '(root)'}: ${what} has no structural equivalent; change the zod schema`);
  }
}

interface Walk {
  path: string;
  defs: Record<string, unknown>;
  resolving: Set<string>;
  options: ConvertOptions;
}

/** Follows `#/$defs/x` references; the structural schema has none, so each is inlined. */
function resolveRef(node: Record<string, unknown>, walk: Walk): Record<string, unknown> {
  const ref = node.$ref;
  if (typeof ref !== 'string') return node;
  const match = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(ref);
  const target = match ? walk.defs[match[1] as string] : undefined;
  if (!match || !isRecord(target)) throw new UnsupportedSchema(walk.path, `reference ${ref}`);
  if (walk.resolving.has(ref)) throw new UnsupportedSchema(walk.path, `recursive reference ${ref}`);
  walk.resolving.add(ref);
  const { $ref: _ref, ...rest } = node;
  // Keywords beside a $ref (a description, a default) refine the referenced schema.
  const merged = { ...resolveRef(target, walk), ...rest };
  walk.resolving.delete(ref);
  return merged;
}

/**
 * Collapses a union zod wrote as anyOf/oneOf into one typed schema: int-or-string, or an enum
 * spread over branches. Any other union is refused (see UnsupportedSchema).
 */
function collapseUnion(branches: Record<string, unknown>[], walk: Walk): Record<string, unknown> {
  const types = branches.map((b) => b.type);
  if (branches.every((b) => Array.isArray(b.enum) && typeof b.type === 'string' && b.type === types[0])) {
    return { type: types[0], enum: branches.flatMap((b) => b.enum as unknown[]) };
  }
  const intOrString = branches.length === 2 && types.includes('string') && types.includes('integer');
  if (intOrString) return { 'x-kubernetes-int-or-string': true };
  throw new UnsupportedSchema(walk.path, `a union of ${JSON.stringify(types)}`);
}

function convertNode(input: Record<string, unknown>, walk: Walk): JSONSchemaProps {
  let node = resolveRef(input, walk);
  for (const key of Object.keys(node)) {
    if (!HANDLED_KEYWORDS.has(key) && !DROPPED_KEYWORDS.has(key)) {
      throw new UnsupportedSchema(walk.path, `keyword "${key}"`);
    }
  }

  let nullable = node.nullable === true;
  let type = node.type;
  if (Array.isArray(type)) {
    nullable ||= type.includes('null');
    const rest = type.filter((t) => t !== 'null');
    if (rest.length !== 1) throw new UnsupportedSchema(walk.path, `type ${JSON.stringify(type)}`);
    type = rest[0];
  }

  // Unions: drop `null` branches (→ nullable), then collapse what remains.
  const union = node.anyOf ?? node.oneOf;
  let intOrString: Record<string, unknown>[] | undefined;
  if (Array.isArray(union)) {
    const branches = union.filter(isRecord).map((b) => resolveRef(b, walk));
    const nonNull = branches.filter((b) => b.type !== 'null');
    nullable ||= nonNull.length < branches.length;
    const { anyOf: _a, oneOf: _o, ...outer } = node;
    const inner =
      nonNull.length === 1 ? (nonNull[0] as Record<string, unknown>) : collapseUnion(nonNull, walk);
    if (inner['x-kubernetes-int-or-string'] === true) intOrString = nonNull;
    // The outer keywords (description, default) win over the branch's.
    node = { ...inner, ...outer };
    type = node.type;
  }

  if ('const' in node) {
    node = { ...node, enum: [node.const] };
    type ??= typeOfValue(node.const);
  }
  if (type === undefined && Array.isArray(node.enum) && node.enum.length > 0) {
    type = typeOfValue(node.enum[0]);
  }

  const out: JSONSchemaProps = {};
  if (typeof node.description === 'string') out.description = node.description;
  if (typeof type === 'string') out.type = type;
  if (typeof node.format === 'string' && KNOWN_FORMATS.has(node.format)) out.format = node.format;
  if (nullable) out.nullable = true;

  for (const keyword of VALUE_KEYWORDS) {
    const value = node[keyword];
    if (value === undefined) continue;
    if ((keyword === 'minimum' || keyword === 'maximum') && SAFE_INTEGER_BOUNDS.has(value as number))
      continue;
    if ((keyword === 'exclusiveMinimum' || keyword === 'exclusiveMaximum') && typeof value === 'number') {
      // JSON Schema 2020-12 form; OpenAPI v3.0 says `minimum: n, exclusiveMinimum: true`.
      out[keyword === 'exclusiveMinimum' ? 'minimum' : 'maximum'] = value;
      out[keyword] = true;
      continue;
    }
    out[keyword] = keyword === 'pattern' ? toRE2Pattern(value as string) : structuredClone(value);
  }
  if (walk.options.annotate && typeof node[PATTERN_MESSAGE] === 'string') {
    out[PATTERN_MESSAGE] = node[PATTERN_MESSAGE];
  }

  if (type === 'array') {
    if (!isRecord(node.items))
      throw new UnsupportedSchema(walk.path, 'an array without a single item schema');
    out.items = convertNode(node.items, { ...walk, path: `${walk.path}[]` });
  }

  if (type === 'object' || (type === undefined && (node.properties || node.additionalProperties))) {
    out.type = 'object';
    const properties = isRecord(node.properties) ? node.properties : undefined;
    const additional = node.additionalProperties;
    if (properties && Object.keys(properties).length > 0) {
      const converted: Record<string, JSONSchemaProps> = {};
      for (const [name, schema] of Object.entries(properties)) {
        if (!isRecord(schema)) throw new UnsupportedSchema(`${walk.path}.${name}`, 'a boolean schema');
        converted[name] = convertNode(schema, { ...walk, path: walk.path ? `${walk.path}.${name}` : name });
      }
      out.properties = converted;
      const required = Array.isArray(node.required) ? node.required.filter((r) => typeof r === 'string') : [];
      if (required.length > 0) out.required = required;
      // additionalProperties: false (z.strictObject) is what pruning does anyway; {} (.loose())
      // means "keep what you do not know".
      if (isRecord(additional) && Object.keys(additional).length === 0) {
        out['x-kubernetes-preserve-unknown-fields'] = true;
      } else if (isRecord(additional)) {
        throw new UnsupportedSchema(walk.path, 'an object with both known properties and a typed catch-all');
      }
    } else if (isRecord(additional) && Object.keys(additional).length > 0) {
      // z.record(): a map. Key constraints (propertyNames) cannot be said structurally.
      out.additionalProperties = convertNode(additional, { ...walk, path: `${walk.path}[*]` });
    } else if (additional !== false) {
      out['x-kubernetes-preserve-unknown-fields'] = true;
    }
  }

  if (intOrString) {
    // The one place a structural schema allows `type` inside anyOf; each branch keeps its own
    // value validations (a pattern for the string, bounds for the integer).
    out['x-kubernetes-int-or-string'] = true;
    out.anyOf = intOrString
      .map((branch) => {
        const { description: _d, default: _def, ...converted } = convertNode(branch, walk);
        return converted;
      })
      .sort((a, b) => String(a.type).localeCompare(String(b.type)));
  } else if (out.type === undefined && out['x-kubernetes-preserve-unknown-fields'] === undefined) {
    // z.unknown() / z.any(): any value at all.
    out['x-kubernetes-preserve-unknown-fields'] = true;
  }

  for (const keyword of KUBERNETES_EXTENSIONS) {
    if (node[keyword] !== undefined) out[keyword] = structuredClone(node[keyword]);
  }
  return out;
}

/**
 * A JavaScript regular expression in the syntax the API server reads `pattern` with: Go's RE2.
 * Escaped slashes lose their backslash, `\uXXXX` becomes `\x{XXXX}`, named groups are spelled
 * `(?P<name>…)` and the i, m and s flags become an inline `(?ims)`. What RE2 cannot do at all —
 * lookaround and backreferences — is an error: the API server would refuse the CRD.
 */
export function toRE2Pattern(source: string, flags = ''): string {
  const refuse = (what: string) => {
    throw new Error(
      `pattern ${JSON.stringify(source)}: ${what} is not RE2 syntax (Kubernetes uses Go regexp)`,
    );
  };
  let out = '';
  for (let i = 0; i < source.length; i++) {
    const char = source[i] as string;
    if (char === '\\') {
      const next = source[i + 1] ?? '';
      i++;
      if (next === '/') out += '/';
      else if (/[1-9]/.test(next)) refuse(`backreference \\${next}`);
      else if (next === 'k' || next === 'c') refuse(`\\${next}`);
      else if (next === 'u' && /^[0-9A-Fa-f]{4}$/.test(source.slice(i + 1, i + 5))) {
        out += `\\x{${source.slice(i + 1, i + 5)}}`;
        i += 4;
      } else out += `\\${next}`;
      continue;
    }
    if (char === '(' && source.startsWith('(?', i)) {
      const rest = source.slice(i + 2);
      if (/^(=|!|<=|<!)/.test(rest)) refuse('lookaround');
      if (/^<[A-Za-z_]/.test(rest)) {
        out += '(?P';
        i += 1;
        continue;
      }
    }
    out += char;
  }
  const inline = [...new Set(flags)].filter((f) => 'ims'.includes(f)).join('');
  return inline && !out.startsWith(`(?${inline})`) ? `(?${inline})${out}` : out;
}

/**
 * Visits each zod schema while zod writes its JSON Schema: spells regex patterns in RE2 with their
 * flags, and keeps the message of each regex check ("must be a duration such as …") for the docs.
 */
function visitZodSchema(ctx: { zodSchema: unknown; jsonSchema: Record<string, unknown> }): void {
  const def = (ctx.zodSchema as { _zod?: { def?: { checks?: unknown[] } } })._zod?.def;
  for (const check of def?.checks ?? []) {
    const checkDef = (check as { _zod?: { def?: { format?: string; pattern?: unknown; error?: unknown } } })
      ._zod?.def;
    if (checkDef?.format !== 'regex' || !(checkDef.pattern instanceof RegExp)) continue;
    if (ctx.jsonSchema.pattern === checkDef.pattern.source) {
      ctx.jsonSchema.pattern = toRE2Pattern(checkDef.pattern.source, checkDef.pattern.flags);
    }
    if (typeof checkDef.error === 'function') {
      const message: unknown = (checkDef.error as (issue: object) => unknown)({});
      if (typeof message === 'string') ctx.jsonSchema[PATTERN_MESSAGE] = message;
    }
  }
}

/** The structural OpenAPI v3 schema of the *input* of a zod schema (what a user writes). */
export function toStructuralSchema(schema: z.ZodType, options: ConvertOptions = {}): JSONSchemaProps {
  const json = z.toJSONSchema(schema, {
    io: 'input',
    target: 'openapi-3.0',
    reused: 'inline',
    cycles: 'throw',
    unrepresentable: 'throw',
    override: (ctx) => visitZodSchema(ctx as Parameters<typeof visitZodSchema>[0]),
  }) as Record<string, unknown>;
  const defs: Record<string, unknown> = {
    ...(json.definitions as object | undefined),
    ...(json.$defs as object | undefined),
  };
  const { $defs: _d, definitions: _defs, ...root } = json;
  return convertNode(root, {
    path: '',
    defs,
    resolving: new Set(),
    options,
  });
}

/** Child objects append suffixes such as "-config" or "-0" to the resource name; 40 leaves room. */
export const MAX_NAME_LENGTH = 40;

/**
 * metadata.name is the one metadata field CEL sees from the root. The fieldPath makes the API
 * server say "metadata.name: Invalid value: must be at most 40 characters: …" rather than "<nil>: …";
 * it is accepted only because the root schema declares metadata.name (see objectSchema).
 */
export const nameLengthRule = {
  rule: `size(self.metadata.name) <= ${MAX_NAME_LENGTH}`,
  message: `must be at most ${MAX_NAME_LENGTH} characters: child objects add suffixes to the name`,
  fieldPath: '.metadata.name',
};

/** The schema of a whole object of this kind: apiVersion, kind, metadata, spec and status. */
export function objectSchema(kind: KindDefinition, options: ConvertOptions = {}): JSONSchemaProps {
  return {
    description: kind.description,
    type: 'object',
    properties: {
      apiVersion: {
        description:
          'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources',
        type: 'string',
      },
      kind: {
        description:
          'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds',
        type: 'string',
      },
      // The root metadata schema may say something only about name and generateName; the API
      // server supplies ObjectMeta itself (and kubectl explain shows its descriptions). name is
      // declared so that the name rule's fieldPath resolves.
      metadata: { type: 'object', properties: { name: { type: 'string' } } },
      spec: toStructuralSchema(kind.spec, options),
      status: toStructuralSchema(kind.status, options),
    },
    required: ['spec'],
    'x-kubernetes-validations': [nameLengthRule],
  };
}

export function crdName(kind: KindDefinition): string {
  return `${kind.plural}.${GROUP}`;
}

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string };
  spec: {
    group: string;
    names: {
      kind: string;
      listKind: string;
      plural: string;
      singular: string;
      shortNames: string[];
      categories: string[];
    };
    scope: 'Namespaced';
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
      schema: { openAPIV3Schema: JSONSchemaProps };
    }[];
  };
}

export function renderCustomResourceDefinition(kind: KindDefinition): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: crdName(kind) },
    spec: {
      group: GROUP,
      names: {
        kind: kind.kind,
        listKind: `${kind.kind}List`,
        plural: kind.plural,
        singular: kind.singular,
        shortNames: [...kind.shortNames],
        categories: [CATEGORY],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: kind.printerColumns.map((column) => ({
            name: column.name,
            type: column.type,
            jsonPath: column.jsonPath,
            description: column.description,
            ...(column.priority !== undefined ? { priority: column.priority } : {}),
          })),
          schema: { openAPIV3Schema: objectSchema(kind) },
        },
      ],
    },
  };
}
