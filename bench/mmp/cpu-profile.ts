// Reads a V8 CPU profile (`run.ts --cpu-prof DIR`, or any program run with node --cpu-prof) and
// prints where the busiest stretch of it went: each function's own share of the busy samples and
// its share with everything it called. The busiest window, not the whole file: a profile also holds
// the program's start and the idle minutes between phases.
//
//   node bench/mmp/cpu-profile.ts FILE.cpuprofile [--window 10] [--top 40]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    window: { type: 'string', default: '10' },
    top: { type: 'string', default: '40' },
  },
});
if (positionals.length !== 1) {
  process.stderr.write('usage: node bench/mmp/cpu-profile.ts FILE.cpuprofile [--window S] [--top N]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(positionals[0]!, 'utf8')) as Profile;
const windowUs = Number(values.window) * 1e6;
const top = Number(values.top);

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parentOf = new Map<number, number>();
for (const n of profile.nodes) for (const child of n.children ?? []) parentOf.set(child, n.id);
const idle = profile.nodes.find((n) => n.callFrame.functionName === '(idle)')?.id;
const name = (n: ProfileNode) =>
  `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;

// Sample times, then the window with the most busy samples.
const times: number[] = [];
let t = profile.startTime;
for (const delta of profile.timeDeltas) times.push((t += delta));
let best = { busy: 0, from: 0 };
for (let end = 0, from = 0, busy = 0; end < profile.samples.length; end++) {
  if (profile.samples[end] !== idle) busy++;
  for (; times[end]! - times[from]! > windowUs; from++) if (profile.samples[from] !== idle) busy--;
  if (busy > best.busy) best = { busy, from };
}
const until = times[best.from]! + windowUs;

const own = new Map<string, number>();
const withCallees = new Map<string, number>();
let busy = 0;
for (let i = best.from; i < profile.samples.length && times[i]! <= until; i++) {
  const id = profile.samples[i]!;
  if (id === idle) continue;
  busy++;
  const leaf = byId.get(id)!;
  own.set(name(leaf), (own.get(name(leaf)) ?? 0) + 1);
  // A recursive function counts once per sample.
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
    const node = byId.get(at)!;
    if (node.callFrame.functionName === '(root)') continue;
    const key = name(node);
    if (seen.has(key)) continue;
    seen.add(key);
    withCallees.set(key, (withCallees.get(key) ?? 0) + 1);
  }
}

const print = (title: string, counts: Map<string, number>) => {
  process.stdout.write(`${title}\n`);
  for (const [key, n] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, top))
    process.stdout.write(`${((100 * n) / Math.max(1, busy)).toFixed(1).padStart(5)} %  ${key}\n`);
};
process.stdout.write(`${busy} busy samples in the busiest ${values.window} s\n`);
print('— own time', own);
print('— with what it called', withCallees);
