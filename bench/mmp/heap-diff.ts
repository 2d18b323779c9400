// What an idle session keeps alive in the MMP's V8 heap: two heap snapshots of the same process
// (run.ts --heap-snapshot: after the load phases, then with N idle sessions open) compared by what
// each holds, per session. Objects are grouped by kind and constructor or function name; closure
// contexts by the variables they hold, since a context is where a closure keeps what it captured.
//
// Usage: node bench/mmp/heap-diff.ts BEFORE.heapsnapshot AFTER.heapsnapshot SESSIONS [--top 40]
//        [--retainers 'closure: '] (who holds the objects of that group in AFTER, and by which edge)
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Snapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

interface Group {
  count: number;
  bytes: number;
}

/**
 * Each node's group and self size; contexts grouped by their variables' names. With `retainersOf`,
 * also how often each (retainer's group, edge name) holds a node of that group.
 */
function summarize(
  file: string,
  retainersOf?: string,
): { groups: Map<string, Group>; retainers: Map<string, number> } {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const { meta } = s.snapshot;
  const nodeWidth = meta.node_fields.length;
  const edgeWidth = meta.edge_fields.length;
  const typeAt = meta.node_fields.indexOf('type');
  const nameAt = meta.node_fields.indexOf('name');
  const sizeAt = meta.node_fields.indexOf('self_size');
  const edgeCountAt = meta.node_fields.indexOf('edge_count');
  const edgeTypeAt = meta.edge_fields.indexOf('type');
  const edgeNameAt = meta.edge_fields.indexOf('name_or_index');
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const contextEdge = edgeTypes.indexOf('context');
  const groups = new Map<string, Group>();
  const keys: string[] = [];
  const firstEdge: number[] = [];
  let edge = 0;
  for (let n = 0; n < s.nodes.length; n += nodeWidth) {
    const type = nodeTypes[s.nodes[n + typeAt]!]!;
    let name = s.strings[s.nodes[n + nameAt]!]!;
    const edges = s.nodes[n + edgeCountAt]!;
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') name = '';
    else if (type === 'number') name = '';
    else if (name === 'system / Context') {
      const vars: string[] = [];
      for (let e = edge; e < edge + edges * edgeWidth; e += edgeWidth)
        if (s.edges[e + edgeTypeAt] === contextEdge) vars.push(s.strings[s.edges[e + edgeNameAt]!]!);
      name = `Context {${vars.join(', ')}}`;
    } else if (name.length > 120) name = `${name.slice(0, 117)}...`;
    edge += edges * edgeWidth;
    const key = `${type}: ${name}`;
    keys.push(key);
    firstEdge.push(edge - edges * edgeWidth);
    const group = groups.get(key) ?? { count: 0, bytes: 0 };
    group.count++;
    group.bytes += s.nodes[n + sizeAt]!;
    groups.set(key, group);
  }
  const retainers = new Map<string, number>();
  if (retainersOf !== undefined) {
    const toAt = meta.edge_fields.indexOf('to_node');
    for (let i = 0; i < keys.length; i++) {
      const end = i + 1 < keys.length ? firstEdge[i + 1]! : s.edges.length;
      for (let e = firstEdge[i]!; e < end; e += edgeWidth) {
        const to = s.edges[e + toAt]! / nodeWidth;
        if (keys[to] !== retainersOf) continue;
        const edgeType = edgeTypes[s.edges[e + edgeTypeAt]!]!;
        const nameOrIndex = s.edges[e + edgeNameAt]!;
        const edgeName =
          edgeType === 'element' || edgeType === 'hidden' ? `[${nameOrIndex}]` : s.strings[nameOrIndex]!;
        const via = `${keys[i]} --${edgeType} ${edgeName}-->`;
        retainers.set(via, (retainers.get(via) ?? 0) + 1);
      }
    }
  }
  return { groups, retainers };
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '40' }, retainers: { type: 'string' } },
});
const [beforeFile, afterFile, sessionsText] = positionals;
if (!beforeFile || !afterFile || !sessionsText)
  throw new Error('usage: heap-diff.ts BEFORE.heapsnapshot AFTER.heapsnapshot SESSIONS');
const sessions = Number(sessionsText);
const { groups: before } = summarize(beforeFile);
const { groups: after, retainers } = summarize(afterFile, values.retainers);
const rows = [...new Set([...before.keys(), ...after.keys()])].map((key) => {
  const b = before.get(key) ?? { count: 0, bytes: 0 };
  const a = after.get(key) ?? { count: 0, bytes: 0 };
  return { key, count: (a.count - b.count) / sessions, bytes: (a.bytes - b.bytes) / sessions };
});
const total = rows.reduce((sum, r) => sum + r.bytes, 0);
const totalCount = rows.reduce((sum, r) => sum + r.count, 0);
process.stdout.write(
  `per session: ${total.toFixed(0)} bytes in ${totalCount.toFixed(1)} objects (${sessions} sessions)\n`,
);
rows.sort((x, y) => y.bytes - x.bytes);
for (const r of rows.slice(0, Number(values.top)))
  process.stdout.write(`${r.bytes.toFixed(0).padStart(7)} B ${r.count.toFixed(2).padStart(7)} × ${r.key}\n`);
if (values.retainers !== undefined) {
  process.stdout.write(`\nwhat holds '${values.retainers}' (in ${afterFile}):\n`);
  for (const [via, n] of [...retainers].sort((x, y) => y[1] - x[1]).slice(0, Number(values.top)))
    process.stdout.write(`${String(n).padStart(7)} ${via}\n`);
}
