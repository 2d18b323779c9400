// Reads a V8 CPU profile (node --cpu-prof) and says where the time went: by function (self and
// total) and by module, as plain text. `node bench/operator/profile.ts FILE.cpuprofile` prints it.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const ROOT = new URL('../../', import.meta.url).href;

/** node_modules/<package>, a file of this repository, node:internal, or a V8 pseudo-frame. */
function moduleOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const nodeModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nodeModules) return nodeModules[1]!;
  if (url.startsWith(ROOT)) return url.slice(ROOT.length);
  // Another checkout (bench.ts --operator-root): named from its top-level directory on.
  const checkout = /\/((?:operator|images|e2e|bench)\/.*)$/.exec(url);
  if (checkout) return checkout[1]!;
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  return url;
}

function frameName(frame: CallFrame): string {
  const where = frame.url ? `${moduleOf(frame.url, frame.functionName)}:${frame.lineNumber + 1}` : '';
  return `${frame.functionName || '(anonymous)'} ${where}`.trim();
}

function top(map: Map<string, number>, count: number, total: number): string[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(
      ([name, us]) =>
        `${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${name}`,
    );
}

export function summarizeProfile(text: string, count = 25): string {
  const profile = JSON.parse(text) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const modules = new Map<string, number>();
  let sampled = 0;
  let idle = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    sampled += delta;
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(idle)') {
      idle += delta;
      return;
    }
    const name = frameName(frame);
    self.set(name, (self.get(name) ?? 0) + delta);
    const module = moduleOf(frame.url, frame.functionName);
    modules.set(module, (modules.get(module) ?? 0) + delta);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const key = frameName(byId.get(at)!.callFrame);
      if (key === '(root)' || seen.has(key)) continue;
      seen.add(key);
      total.set(key, (total.get(key) ?? 0) + delta);
    }
  });
  const busy = sampled - idle;
  const ours = new Map([...total].filter(([name]) => / operator\/src\//.test(name)));
  return [
    `wall ${(sampled / 1e6).toFixed(2)} s sampled; busy (on CPU) ${(busy / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s`,
    '',
    'self time by module (percent of busy):',
    ...top(modules, count, busy),
    '',
    'self time by function:',
    ...top(self, count, busy),
    '',
    'total time (with callees) of operator/src functions:',
    ...top(ours, count, busy),
    '',
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node bench/operator/profile.ts FILE.cpuprofile');
    process.exit(2);
  }
  process.stdout.write(summarizeProfile(readFileSync(file, 'utf8')));
}
