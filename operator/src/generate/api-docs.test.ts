import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderApiDocs, typeName } from './api-docs.ts';
import { objectSchema, type JSONSchemaProps } from '../api/crd.ts';
import { KINDS, type KindDefinition } from '../api/kinds.ts';

const docs = renderApiDocs(KINDS);

/** One kind's section of the page. */
function section(kind: KindDefinition): string {
  const start = docs.indexOf(`\n## ${kind.kind}\n`);
  const end = docs.indexOf('\n## ', start + 1);
  return docs.slice(start, end < 0 ? undefined : end);
}

function cells(row: string): string[] {
  return row
    .slice(1, -1)
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

/** The rows of the field tables (spec and status) in a section, split into cells. */
function fieldRows(text: string): string[][] {
  const rows: string[][] = [];
  let inTable = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('| Field | Type |')) inTable = true;
    else if (!line.startsWith('|')) inTable = false;
    else if (inTable && !line.startsWith('| ---')) rows.push(cells(line));
  }
  return rows;
}

/** Every field path below spec and status, as the docs spell them. */
function fieldPaths(schema: JSONSchemaProps, path: string): string[] {
  const out: string[] = [];
  for (const [name, child] of Object.entries((schema.properties as Record<string, JSONSchemaProps>) ?? {})) {
    const childPath = `${path}.${name}`;
    out.push(childPath, ...fieldPaths(child, childPath));
    const items = child.items as JSONSchemaProps | undefined;
    if (items?.type === 'object') out.push(...fieldPaths(items, `${childPath}[]`));
  }
  return out;
}

describe('docs/api.md', () => {
  for (const kind of KINDS) {
    test(`lists every field of ${kind.kind} with its type and description`, () => {
      const text = section(kind);
      const schema = objectSchema(kind).properties as Record<string, JSONSchemaProps>;
      const rows = new Map(fieldRows(text).map((row) => [row[0]!.replace(/`/g, ''), row] as const));
      const expected = [...fieldPaths(schema.spec!, 'spec'), ...fieldPaths(schema.status!, 'status')];
      assert.deepEqual([...rows.keys()], expected);
      for (const row of rows.values()) {
        assert.equal(row.length, 6, `${row[0]} has ${row.length} cells`);
        assert.ok(row[5]!.length > 0, `${row[0]} has no description`);
      }
    });

    test(`lists the printer columns, short names and rules of ${kind.kind}`, () => {
      const text = section(kind);
      for (const column of kind.printerColumns)
        assert.match(text, new RegExp(`^\\| ${column.name} \\|`, 'm'));
      for (const shortName of kind.shortNames) assert.ok(text.includes(`\`${shortName}\``), shortName);
      assert.match(text, /^\| `metadata.name` \| must be at most 40 characters: child objects add suffixes/m);
    });
  }

  test('says defaults, requirements and allowed values in words', () => {
    const relay = section(KINDS.find((k) => k.kind === 'MTARelay')!);
    const row = (path: string) => fieldRows(relay).find((cells) => cells[0] === `\`${path}\``)!;
    assert.deepEqual(row('spec.role').slice(0, 5), [
      '`spec.role`',
      'string',
      'yes',
      '',
      'one of `internet`, `inbound`, `outbound`, `gateway`',
    ]);
    assert.deepEqual(row('spec.replicas').slice(1, 5), ['integer', '', '`2`', '1 to 32']);
    assert.match(row('spec.queue.lifetime')[4]!, /^at most 32 characters; must be a duration such as "30s"/);
    assert.equal(row('spec.service.annotations')[1], 'map[string]string');
    assert.match(
      relay,
      /\| `spec.routes` \| a gateway needs at least one route: which legacy host receives which domains \| `self.role != 'gateway' \\\|\\\| \(has\(self.routes\)/,
    );
  });

  test('names list types by their items', () => {
    assert.equal(typeName({ type: 'array', items: { type: 'object' } }), '[]object');
    assert.equal(typeName({ type: 'object', additionalProperties: { type: 'string' } }), 'map[string]string');
    assert.equal(typeName({ 'x-kubernetes-int-or-string': true }), 'int or string');
  });
});
