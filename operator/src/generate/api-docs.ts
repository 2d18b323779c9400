// docs/api.md: every field of every kind, written from the same structural schemas the CRDs carry,
// so the reference cannot drift from what the API server enforces.
import { objectSchema, PATTERN_MESSAGE, type JSONSchemaProps } from '../api/crd.ts';
import { CATEGORY, GROUP, VERSION, type KindDefinition } from '../api/kinds.ts';
import { GENERATED_NOTICE } from './generated-files.ts';

interface FieldRow {
  path: string;
  type: string;
  required: boolean;
  default?: unknown;
  constraints: string[];
  description: string;
}

interface RuleRow {
  field: string;
  rule: string;
  message: string;
}

interface Validation {
  rule: string;
  message?: string;
  fieldPath?: string;
}

/**
 * Text for a Markdown table cell: one line, pipes escaped (they split cells even inside code
 * spans) and, outside code spans, `<` written as an entity so "<first domain>" is not read as HTML.
 */
function cell(text: string): string {
  return text
    .replace(/\r?\n/g, ' ')
    .split('`')
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/</g, '&lt;')))
    .join('`')
    .replace(/\|/g, '\\|');
}

function code(text: string): string {
  return `\`${text}\``;
}

function range(min: unknown, max: unknown, unit?: string): string | undefined {
  const u = (n: number) => (unit ? ` ${unit}${n === 1 ? '' : 's'}` : '');
  if (typeof min === 'number' && typeof max === 'number') {
    return min === max ? `exactly ${min}${u(max)}` : `${min} to ${max}${u(max)}`;
  }
  if (typeof min === 'number') return `at least ${min}${u(min)}`;
  if (typeof max === 'number') return `at most ${max}${u(max)}`;
  return undefined;
}

export function typeName(schema: JSONSchemaProps): string {
  if (schema['x-kubernetes-int-or-string'] === true) return 'int or string';
  const nullable = schema.nullable === true ? ' (nullable)' : '';
  switch (schema.type) {
    case 'array':
      return `[]${typeName(schema.items as JSONSchemaProps)}${nullable}`;
    case 'object':
      if (schema.additionalProperties) {
        return `map[string]${typeName(schema.additionalProperties as JSONSchemaProps)}${nullable}`;
      }
      return `object${nullable}`;
    case undefined:
      return 'any';
    default:
      return `${String(schema.type)}${nullable}`;
  }
}

/** What one schema node allows, in words. */
function valueConstraints(schema: JSONSchemaProps): string[] {
  const out: string[] = [];
  if (Array.isArray(schema.enum)) out.push(`one of ${schema.enum.map((v) => code(String(v))).join(', ')}`);
  const numbers = range(schema.minimum, schema.maximum);
  if (numbers) {
    const exclusive = [schema.exclusiveMinimum && 'minimum', schema.exclusiveMaximum && 'maximum'].filter(
      Boolean,
    );
    out.push(exclusive.length > 0 ? `${numbers} (${exclusive.join(' and ')} excluded)` : numbers);
  }
  const length = range(schema.minLength, schema.maxLength, 'character');
  if (length) out.push(length);
  if (typeof schema.pattern === 'string') {
    const words = schema[PATTERN_MESSAGE];
    out.push(
      typeof words === 'string' ? `${words} (${code(schema.pattern)})` : `matches ${code(schema.pattern)}`,
    );
  }
  const items = range(schema.minItems, schema.maxItems, 'item');
  if (items) out.push(items);
  const properties = range(schema.minProperties, schema.maxProperties, 'entry');
  if (properties) out.push(properties);
  const listType = schema['x-kubernetes-list-type'];
  if (listType === 'set') out.push('no duplicates');
  if (listType === 'map') {
    const keys = (schema['x-kubernetes-list-map-keys'] as string[] | undefined) ?? [];
    out.push(`unique by ${keys.map((k) => code(k)).join(' and ')}`);
  }
  // Rules on a scalar (isCIDR on a CIDR) describe its value; rules on objects are cross-field rules.
  if (schema.type !== 'object') {
    for (const validation of (schema['x-kubernetes-validations'] as Validation[] | undefined) ?? []) {
      out.push(validation.message ?? `satisfies ${code(validation.rule)}`);
    }
  }
  return out;
}

function constraintsOf(schema: JSONSchemaProps): string[] {
  const own = valueConstraints(schema);
  if (schema.type === 'array' && schema.items) {
    const items = schema.items as JSONSchemaProps;
    if (items.type !== 'object') own.push(...valueConstraints(items).map((c) => `each item: ${c}`));
  }
  if (schema.type === 'object' && schema.additionalProperties) {
    const values = valueConstraints(schema.additionalProperties as JSONSchemaProps);
    own.push(...values.map((c) => `each value: ${c}`));
  }
  return own;
}

/** Walks an object schema depth first, in declaration order: one row per field. */
function collect(schema: JSONSchemaProps, path: string, rows: FieldRow[], rules: RuleRow[]): void {
  for (const validation of (schema['x-kubernetes-validations'] as Validation[] | undefined) ?? []) {
    if (schema.type === 'object') {
      rules.push({
        field: `${path}${validation.fieldPath ?? ''}`,
        rule: validation.rule,
        message: validation.message ?? '',
      });
    }
  }
  const properties = (schema.properties as Record<string, JSONSchemaProps> | undefined) ?? {};
  const required = new Set((schema.required as string[] | undefined) ?? []);
  for (const [name, child] of Object.entries(properties)) {
    const childPath = path ? `${path}.${name}` : name;
    rows.push({
      path: childPath,
      type: typeName(child),
      required: required.has(name),
      default: child.default,
      constraints: constraintsOf(child),
      description: typeof child.description === 'string' ? child.description : '',
    });
    collect(child, childPath, rows, rules);
    if (child.type === 'array' && (child.items as JSONSchemaProps | undefined)?.type === 'object') {
      collect(child.items as JSONSchemaProps, `${childPath}[]`, rows, rules);
    }
  }
}

function fieldTable(rows: FieldRow[]): string[] {
  const lines = [
    '| Field | Type | Required | Default | Allowed values | Description |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const row of rows) {
    lines.push(
      `| ${[
        code(row.path),
        row.type,
        row.required ? 'yes' : '',
        row.default === undefined ? '' : code(JSON.stringify(row.default)),
        row.constraints.join('; '),
        row.description,
      ]
        .map(cell)
        .join(' | ')} |`,
    );
  }
  return lines;
}

function kindSection(kind: KindDefinition): string[] {
  const schema = objectSchema(kind, { annotate: true });
  const properties = schema.properties as Record<string, JSONSchemaProps>;
  const lines: string[] = [`## ${kind.kind}`, '', kind.description, ''];
  lines.push(
    '| | |',
    '| --- | --- |',
    `| API version | ${code(`${GROUP}/${VERSION}`)} |`,
    `| Resource | ${code(`${kind.plural}.${GROUP}`)} (namespaced) |`,
    `| Names | ${[kind.plural, kind.singular, ...kind.shortNames].map((n) => code(n)).join(', ')} |`,
    `| Category | ${code(CATEGORY)} |`,
    `| Subresources | ${code('status')} |`,
    '',
  );

  lines.push(`### \`kubectl get ${kind.shortNames[0] ?? kind.plural}\` columns`, '');
  lines.push('| Column | Type | JSONPath | Shown | Description |', '| --- | --- | --- | --- | --- |');
  for (const column of kind.printerColumns) {
    const shown = (column.priority ?? 0) > 0 ? 'with `-o wide`' : 'always';
    const cells = [column.name, column.type, code(column.jsonPath), shown, column.description];
    lines.push(`| ${cells.map(cell).join(' | ')} |`);
  }
  lines.push('');

  // Rules on the root (the name's length) first: they apply whatever the spec says.
  const rules: RuleRow[] = ((schema['x-kubernetes-validations'] as Validation[] | undefined) ?? []).map(
    (v) => ({
      field: v.fieldPath?.slice(1) ?? '',
      rule: v.rule,
      message: v.message ?? '',
    }),
  );
  for (const part of ['spec', 'status'] as const) {
    const rows: FieldRow[] = [];
    const partSchema = properties[part] as JSONSchemaProps;
    collect(partSchema, part, rows, rules);
    lines.push(
      `### ${part}`,
      '',
      typeof partSchema.description === 'string' ? partSchema.description : '',
      '',
      ...fieldTable(rows),
      '',
    );
  }

  lines.push(
    '### Rules across fields',
    '',
    'The API server checks these CEL rules (`x-kubernetes-validations`) on every create and update; ' +
      '`mtopo validate` and the operator check the same rules before anything is rendered.',
    '',
    '| Field | Message | Rule (CEL) |',
    '| --- | --- | --- |',
  );
  for (const rule of rules) {
    const cells = [rule.field ? code(rule.field) : 'the whole object', rule.message, code(rule.rule)];
    lines.push(`| ${cells.map(cell).join(' | ')} |`);
  }
  lines.push('');
  return lines;
}

export function renderApiDocs(kinds: readonly KindDefinition[]): string {
  const lines = [
    `<!-- ${GENERATED_NOTICE}: the source is the zod schemas in operator/src/api -->`,
    '',
    `# API reference: \`${GROUP}/${VERSION}\``,
    '',
    `All kinds are namespaced and in the \`${CATEGORY}\` category: \`kubectl get ${CATEGORY}\` lists them all. ` +
      'This page, the CustomResourceDefinitions in `crds/` and the checks of `mtopo validate` come from the same ' +
      'zod schemas (`operator/src/api`).',
    '',
    'Reading the tables: a field marked *Required* must be given whenever the object that holds it is given. ' +
      'A default is filled in by the API server when the field is left out; an object defaulting to `{}` is ' +
      'created empty and then receives its own fields\u2019 defaults. `[]` marks the items of a list.',
    '',
    ...kinds.map((kind) => `- [${kind.kind}](#${kind.kind.toLowerCase()}): ${kind.description}`),
    '',
  ];
  for (const kind of kinds) lines.push(...kindSection(kind));
  return `${lines.join('\n').trimEnd()}\n`;
}
