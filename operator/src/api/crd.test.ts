// The CRDs must be structural and within the CEL cost budget, or the API server refuses them at
// install time. These tests walk every generated schema and check the rules the API server applies.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import {
  renderCustomResourceDefinition,
  toRE2Pattern,
  toStructuralSchema,
  type JSONSchemaProps,
} from './crd.ts';
import { CATEGORY, KINDS, type KindDefinition } from './kinds.ts';

/** The fields of apiextensions.k8s.io/v1 JSONSchemaProps a structural schema may use. */
const ALLOWED_KEYWORDS = new Set([
  'description',
  'type',
  'format',
  'title',
  'default',
  'nullable',
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
  'items',
  'minProperties',
  'maxProperties',
  'properties',
  'additionalProperties',
  'required',
  'anyOf',
  'oneOf',
  'allOf',
  'not',
  'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
  'x-kubernetes-embedded-resource',
]);

interface Node {
  path: string;
  schema: JSONSchemaProps;
  /** Reached as a member of `properties` (a field kubectl explain shows). */
  isProperty: boolean;
  /** Some ancestor (or the node itself) carries x-kubernetes-validations. */
  underRule: boolean;
}

/** Every schema node below the root, with its path: properties, items and map values. */
function nodes(root: JSONSchemaProps, path = '', underRule = false, isProperty = false): Node[] {
  const ruled = underRule || Array.isArray(root['x-kubernetes-validations']);
  const out: Node[] = [{ path: path || '(root)', schema: root, isProperty, underRule: ruled }];
  const properties = (root.properties as Record<string, JSONSchemaProps> | undefined) ?? {};
  for (const [name, child] of Object.entries(properties)) {
    out.push(...nodes(child, path ? `${path}.${name}` : name, ruled, true));
  }
  if (root.items) out.push(...nodes(root.items as JSONSchemaProps, `${path}[]`, ruled));
  if (typeof root.additionalProperties === 'object') {
    out.push(...nodes(root.additionalProperties as JSONSchemaProps, `${path}[*]`, ruled));
  }
  return out;
}

function rootSchema(kind: KindDefinition): JSONSchemaProps {
  return renderCustomResourceDefinition(kind).spec.versions[0]!.schema.openAPIV3Schema;
}

/** Finds the schema a dotted path (".network.clientZones") names below `schema`. */
function schemaAt(schema: JSONSchemaProps, fieldPath: string): JSONSchemaProps | undefined {
  let current: JSONSchemaProps | undefined = schema;
  for (const part of fieldPath.split('.').filter(Boolean)) {
    const name = part.replace(/\[.*\]$/, '');
    current = (current?.properties as Record<string, JSONSchemaProps> | undefined)?.[name];
    if (current && part.endsWith(']')) current = current.items as JSONSchemaProps | undefined;
  }
  return current;
}

/**
 * A small validator for the keywords our schemas use, with Kubernetes' defaulting (an absent field
 * with a default gets it, recursively). The API server refuses a CRD whose defaults do not validate.
 */
function violations(schema: JSONSchemaProps, value: unknown, path: string): string[] {
  const problems: string[] = [];
  const fail = (what: string) => problems.push(`${path}: ${what}`);
  if (value === null) return schema.nullable === true ? [] : [`${path}: null`];
  if (Array.isArray(schema.enum) && !schema.enum.includes(value))
    fail(`not in enum: ${JSON.stringify(value)}`);
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') return [`${path}: not a string`];
      if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) fail('too long');
      if (typeof schema.minLength === 'number' && value.length < schema.minLength) fail('too short');
      if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern).test(value)) fail('pattern');
      break;
    case 'integer':
    case 'number':
      if (typeof value !== 'number' || (schema.type === 'integer' && !Number.isInteger(value))) {
        return [`${path}: not an ${String(schema.type)}`];
      }
      if (typeof schema.minimum === 'number' && value < schema.minimum) fail('below minimum');
      if (typeof schema.maximum === 'number' && value > schema.maximum) fail('above maximum');
      break;
    case 'boolean':
      if (typeof value !== 'boolean') fail('not a boolean');
      break;
    case 'array': {
      if (!Array.isArray(value)) return [`${path}: not an array`];
      if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) fail('too many items');
      if (typeof schema.minItems === 'number' && value.length < schema.minItems) fail('too few items');
      value.forEach((item, i) =>
        problems.push(...violations(schema.items as JSONSchemaProps, item, `${path}[${i}]`)),
      );
      break;
    }
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return [`${path}: not an object`];
      const record = value as Record<string, unknown>;
      const properties = (schema.properties as Record<string, JSONSchemaProps> | undefined) ?? {};
      for (const [name, child] of Object.entries(properties)) {
        const present = name in record ? record[name] : child.default;
        if (present === undefined) {
          if (((schema.required as string[] | undefined) ?? []).includes(name)) fail(`${name} is required`);
          continue;
        }
        problems.push(...violations(child, present, `${path}.${name}`));
      }
      for (const [name, child] of Object.entries(record)) {
        if (name in properties) continue;
        if (schema.additionalProperties) {
          problems.push(
            ...violations(schema.additionalProperties as JSONSchemaProps, child, `${path}.${name}`),
          );
        } else if (schema['x-kubernetes-preserve-unknown-fields'] !== true) fail(`unknown field ${name}`);
      }
      break;
    }
  }
  return problems;
}

for (const kind of KINDS) {
  describe(`the ${kind.kind} CustomResourceDefinition`, () => {
    const crd = renderCustomResourceDefinition(kind);
    const root = rootSchema(kind);
    const all = nodes(root);

    test('names the group, version, scope, names, category and status subresource', () => {
      assert.equal(crd.apiVersion, 'apiextensions.k8s.io/v1');
      assert.equal(crd.kind, 'CustomResourceDefinition');
      assert.equal(crd.metadata.name, `${kind.plural}.mtopo.dev`);
      assert.equal(crd.spec.group, 'mtopo.dev');
      assert.equal(crd.spec.scope, 'Namespaced');
      assert.deepEqual(crd.spec.names, {
        kind: kind.kind,
        listKind: `${kind.kind}List`,
        plural: kind.plural,
        singular: kind.singular,
        shortNames: kind.shortNames,
        categories: [CATEGORY],
      });
      assert.equal(crd.spec.versions.length, 1);
      const version = crd.spec.versions[0]!;
      assert.equal(version.name, 'v1alpha1');
      assert.equal(version.served, true);
      assert.equal(version.storage, true);
      assert.deepEqual(version.subresources, { status: {} });
    });

    test('has a root schema with apiVersion, kind, bare metadata, spec and status', () => {
      assert.equal(root.type, 'object');
      assert.equal(root.description, kind.description);
      assert.deepEqual(Object.keys(root.properties as object), [
        'apiVersion',
        'kind',
        'metadata',
        'spec',
        'status',
      ]);
      // The API server allows the root metadata schema to restrict only name and generateName.
      assert.deepEqual((root.properties as Record<string, unknown>).metadata, {
        type: 'object',
        properties: { name: { type: 'string' } },
      });
      assert.deepEqual(root.required, ['spec']);
    });

    test('limits metadata.name to 40 characters with a root CEL rule', () => {
      assert.deepEqual(root['x-kubernetes-validations'], [
        {
          rule: 'size(self.metadata.name) <= 40',
          message: 'must be at most 40 characters: child objects add suffixes to the name',
          fieldPath: '.metadata.name',
        },
      ]);
    });

    test('uses only keywords of JSONSchemaProps (no $ref, $schema, $defs, propertyNames, const)', () => {
      for (const { path, schema } of all) {
        for (const key of Object.keys(schema)) {
          assert.ok(ALLOWED_KEYWORDS.has(key), `${path} has "${key}"`);
        }
        if (schema.additionalProperties !== undefined) {
          assert.equal(
            typeof schema.additionalProperties,
            'object',
            `${path}: additionalProperties must be a schema`,
          );
        }
      }
    });

    test('gives every node a type, int-or-string or preserve-unknown-fields', () => {
      for (const { path, schema } of all) {
        const typed =
          typeof schema.type === 'string' ||
          schema['x-kubernetes-int-or-string'] === true ||
          schema['x-kubernetes-preserve-unknown-fields'] === true;
        assert.ok(typed, `${path} has no type`);
      }
    });

    test('describes every field, for kubectl explain', () => {
      for (const { path, schema, isProperty } of all) {
        // metadata's descriptions are ObjectMeta's, supplied by the API server.
        if (!isProperty || path === 'metadata' || path === 'metadata.name') continue;
        assert.equal(typeof schema.description, 'string', `${path} has no description`);
        assert.ok((schema.description as string).length > 3, `${path} has an empty description`);
      }
    });

    test('never has properties and additionalProperties on one object', () => {
      for (const { path, schema } of all) {
        assert.ok(!(schema.properties && schema.additionalProperties), `${path} has both`);
      }
    });

    test('uses anyOf/oneOf/allOf only as validation over a typed schema', () => {
      for (const { path, schema } of all) {
        for (const keyword of ['anyOf', 'oneOf', 'allOf'] as const) {
          const branches = schema[keyword] as JSONSchemaProps[] | undefined;
          if (!branches) continue;
          const intOrString = schema['x-kubernetes-int-or-string'] === true;
          for (const branch of branches) {
            for (const forbidden of ['description', 'default', 'nullable', 'additionalProperties']) {
              assert.ok(!(forbidden in branch), `${path}.${keyword} has ${forbidden}`);
            }
            if (!intOrString) assert.ok(!('type' in branch), `${path}.${keyword} has a type`);
          }
        }
      }
    });

    test('drops the safe-integer bounds zod writes for unbounded integers', () => {
      for (const { path, schema } of all) {
        for (const bound of [schema.minimum, schema.maximum]) {
          assert.ok(
            bound === undefined || Math.abs(bound as number) < Number.MAX_SAFE_INTEGER,
            `${path}: ${String(bound)}`,
          );
        }
      }
    });

    test('bounds every list and string a CEL rule can reach (the cost budget)', () => {
      // The root rule reads only metadata.name, whose length the API server bounds itself; every
      // other rule is judged by all it could reach below it.
      const properties = root.properties as Record<string, JSONSchemaProps>;
      const belowRoot = ['spec', 'status'].flatMap((part) => nodes(properties[part]!, part));
      for (const { path, schema, underRule } of belowRoot) {
        if (!underRule) continue;
        if (schema.type === 'array')
          assert.equal(typeof schema.maxItems, 'number', `${path} has no maxItems`);
        if (schema.type === 'string' && schema.enum === undefined) {
          assert.equal(typeof schema.maxLength, 'number', `${path} has no maxLength`);
        }
        if (schema.type === 'object' && schema.additionalProperties) {
          const values = schema.additionalProperties as JSONSchemaProps;
          assert.equal(typeof values.maxLength, 'number', `${path} map values have no maxLength`);
        }
      }
    });

    test('points every rule fieldPath at a field that exists', () => {
      for (const { path, schema } of all) {
        for (const rule of (schema['x-kubernetes-validations'] as { fieldPath?: string }[] | undefined) ??
          []) {
          if (rule.fieldPath === undefined) continue;
          assert.ok(schemaAt(schema, rule.fieldPath), `${path}: fieldPath ${rule.fieldPath} names no field`);
        }
      }
    });

    test('writes patterns Go RE2 reads the same way', () => {
      for (const { path, schema } of all) {
        if (typeof schema.pattern !== 'string') continue;
        assert.equal(toRE2Pattern(schema.pattern), schema.pattern, `${path}: ${schema.pattern}`);
        assert.doesNotThrow(() => new RegExp(schema.pattern as string), path);
      }
    });

    test('keys list maps by required fields and keeps sets to scalars', () => {
      for (const { path, schema } of all) {
        const listType = schema['x-kubernetes-list-type'];
        if (listType === undefined) continue;
        assert.equal(schema.type, 'array', `${path}: list type on a non-list`);
        const items = schema.items as JSONSchemaProps;
        if (listType === 'set') assert.notEqual(items.type, 'object', `${path}: a set of objects`);
        if (listType === 'map') {
          const keys = schema['x-kubernetes-list-map-keys'] as string[];
          assert.ok(keys.length > 0, `${path}: map without keys`);
          for (const key of keys) {
            const keySchema = (items.properties as Record<string, JSONSchemaProps>)[key];
            assert.ok(keySchema, `${path}: key ${key} is not a field`);
            const required = ((items.required as string[] | undefined) ?? []).includes(key);
            assert.ok(required || keySchema.default !== undefined, `${path}: key ${key} is optional`);
          }
        }
      }
    });

    test('has defaults that validate against their own schema', () => {
      for (const { path, schema } of all) {
        if (schema.default === undefined) continue;
        assert.deepEqual(violations(schema, schema.default, path), []);
      }
    });

    test('has printer columns that read fields the schema declares', () => {
      const columns = crd.spec.versions[0]!.additionalPrinterColumns;
      assert.deepEqual(
        columns.map((c) => c.name),
        kind.printerColumns.map((c) => c.name),
      );
      for (const column of columns) {
        if (column.jsonPath.startsWith('.metadata.')) continue;
        const fieldPath = column.jsonPath.replace(/\[\?\(@\.type=="\w+"\)\]/, '[]');
        assert.ok(schemaAt(root, fieldPath), `${column.name}: ${column.jsonPath} names no field`);
      }
    });
  });
}

describe('the schemas of the three kinds', () => {
  test('key client zones, legacy systems and conditions by name or type', () => {
    const topology = rootSchema(KINDS.find((k) => k.kind === 'MessagingTopology')!);
    for (const [path, key] of [
      ['spec.network.clientZones', 'name'],
      ['spec.network.legacySystems', 'name'],
      ['status.conditions', 'type'],
    ] as const) {
      const list = schemaAt(topology, path)!;
      assert.equal(list['x-kubernetes-list-type'], 'map', path);
      assert.deepEqual(list['x-kubernetes-list-map-keys'], [key], path);
    }
  });

  test('carry the cross-field rules of rules.ts as CEL with their messages', () => {
    const relay = rootSchema(KINDS.find((k) => k.kind === 'MTARelay')!);
    const rules = schemaAt(relay, 'spec')!['x-kubernetes-validations'] as {
      rule: string;
      fieldPath: string;
    }[];
    assert.ok(rules.some((r) => r.fieldPath === '.routes' && r.rule.includes("self.role != 'gateway'")));
    const cidr = schemaAt(rootSchema(KINDS[0]!), 'spec.directory.cidrs[]')!;
    assert.deepEqual(cidr['x-kubernetes-validations'], [
      { rule: 'isCIDR(self)', message: 'must be a CIDR such as "10.0.0.0/8"' },
    ]);
  });
});

describe('toStructuralSchema', () => {
  test('turns strict objects into properties without additionalProperties', () => {
    const schema = toStructuralSchema(z.strictObject({ a: z.string().describe('A.') }).describe('O.'));
    assert.deepEqual(schema, {
      description: 'O.',
      type: 'object',
      properties: { a: { description: 'A.', type: 'string' } },
      required: ['a'],
    });
  });

  test('turns records into additionalProperties without propertyNames', () => {
    const schema = toStructuralSchema(z.record(z.string().max(5), z.int().min(1)));
    assert.deepEqual(schema, { type: 'object', additionalProperties: { type: 'integer', minimum: 1 } });
  });

  test('keeps unknown fields of loose objects and of unknown values', () => {
    const schema = toStructuralSchema(z.object({ a: z.unknown().describe('Anything.') }).loose());
    assert.equal(schema['x-kubernetes-preserve-unknown-fields'], true);
    assert.deepEqual((schema.properties as Record<string, unknown>).a, {
      description: 'Anything.',
      'x-kubernetes-preserve-unknown-fields': true,
    });
  });

  test('writes nullable, int-or-string, literal and enum unions the Kubernetes way', () => {
    const schema = toStructuralSchema(
      z.strictObject({
        n: z.string().nullable().describe('N.'),
        port: z.union([z.int().min(1), z.string().max(15)]).describe('P.'),
        mode: z.literal('on').describe('M.'),
        tls: z
          .union([z.literal('a'), z.literal('b')])
          .default('a')
          .describe('T.'),
      }),
    );
    const properties = schema.properties as Record<string, JSONSchemaProps>;
    assert.deepEqual(properties.n, { description: 'N.', type: 'string', nullable: true });
    assert.deepEqual(properties.port, {
      description: 'P.',
      'x-kubernetes-int-or-string': true,
      anyOf: [
        { type: 'integer', minimum: 1 },
        { type: 'string', maxLength: 15 },
      ],
    });
    assert.deepEqual(properties.mode, { description: 'M.', type: 'string', enum: ['on'] });
    assert.deepEqual(properties.tls, { description: 'T.', type: 'string', default: 'a', enum: ['a', 'b'] });
  });

  test('drops safe-integer bounds but keeps real ones', () => {
    assert.deepEqual(toStructuralSchema(z.int()), { type: 'integer' });
    assert.deepEqual(toStructuralSchema(z.int().min(0)), { type: 'integer', minimum: 0 });
    assert.deepEqual(toStructuralSchema(z.number().positive().max(2)), {
      type: 'number',
      minimum: 0,
      exclusiveMinimum: true,
      maximum: 2,
    });
  });

  test('refuses unions it cannot express, naming the field', () => {
    const schema = z.strictObject({
      target: z.union([z.strictObject({ a: z.string() }), z.strictObject({ b: z.int() })]),
    });
    assert.throws(() => toStructuralSchema(schema), /target: a union of \["object","object"\]/);
  });

  test('writes regex flags inline and keeps the check message only when asked', () => {
    const schema = z.string().regex(/^a\/b$/i, 'must be a/b');
    assert.deepEqual(toStructuralSchema(schema), { type: 'string', pattern: '(?i)^a/b$' });
    assert.equal(toStructuralSchema(schema, { annotate: true })['x-mtopo-pattern-message'], 'must be a/b');
  });
});

describe('toRE2Pattern', () => {
  test('rewrites JavaScript-only spellings', () => {
    assert.equal(toRE2Pattern('^ldaps?:\\/\\/x$'), '^ldaps?://x$');
    assert.equal(toRE2Pattern('\\u00e9'), '\\x{00e9}');
    assert.equal(toRE2Pattern('(?<name>a)'), '(?P<name>a)');
    assert.equal(toRE2Pattern('a', 'gim'), '(?im)a');
    assert.equal(toRE2Pattern('a\\\\/b'), 'a\\\\/b');
  });

  test('refuses lookaround and backreferences', () => {
    assert.throws(() => toRE2Pattern('^(?!-)[a-z]+$'), /lookaround/);
    assert.throws(() => toRE2Pattern('(?<=a)b'), /lookaround/);
    assert.throws(() => toRE2Pattern('(a)\\1'), /backreference/);
  });
});
