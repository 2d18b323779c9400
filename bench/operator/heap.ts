// Reads a V8 heap snapshot (node --heapsnapshot-signal) and says what the live heap is made of: the
// self size of every node summed by its kind (an object by its constructor, strings, arrays, code),
// largest first, as plain text. `node bench/operator/heap.ts FILE.heapsnapshot` prints it.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export function summarizeHeap(text: string, count = 25): string {
  const heap = JSON.parse(text) as HeapSnapshot;
  const fields = heap.snapshot.meta.node_fields;
  const types = heap.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const bySort = new Map<string, { bytes: number; count: number }>();
  let total = 0;
  for (let i = 0; i < heap.nodes.length; i += width) {
    const type = types[heap.nodes[i + typeAt]!] ?? '?';
    const size = heap.nodes[i + sizeAt]!;
    // Objects by constructor ("Object", "Map"); everything else by its type (strings, arrays, code).
    const name = type === 'object' ? (heap.strings[heap.nodes[i + nameAt]!] ?? '?') : `(${type})`;
    const entry = bySort.get(name) ?? { bytes: 0, count: 0 };
    entry.bytes += size;
    entry.count += 1;
    bySort.set(name, entry);
    total += size;
  }
  const rows = [...bySort.entries()]
    .sort((a, b) => b[1].bytes - a[1].bytes)
    .slice(0, count)
    .map(
      ([name, { bytes, count: n }]) =>
        `${(bytes / 2 ** 20).toFixed(1).padStart(8)} MiB ${((100 * bytes) / total).toFixed(1).padStart(5)}% ${String(n).padStart(9)}  ${name.slice(0, 80)}`,
    );
  return [`live heap ${(total / 2 ** 20).toFixed(1)} MiB, by kind (self size):`, ...rows].join('\n') + '\n';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node bench/operator/heap.ts FILE.heapsnapshot');
    process.exit(2);
  }
  process.stdout.write(summarizeHeap(readFileSync(file, 'utf8')));
}
