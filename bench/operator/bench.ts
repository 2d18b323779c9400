// `make bench-operator`: how long the operator takes to deploy N sites, against the floor the API
// server sets for the same objects (one `kubectl apply --server-side` of everything `mtopo render`
// prints). Each measurement runs on a fresh control plane (testing/control-plane: same binaries, same flags),
// `--runs` times, alternating which goes first; it prints medians, and docs/performance.md reports
// them. Deleting 100 sites' namespaces between measurements would take longer than starting anew.
//
//   node bench/operator/bench.ts [--sites 100] [--runs 3] [--workers 4] [--cpu-prof] [--heap-snapshot]
//                                [--max-heap-mib N] [--max-semi-space-mib N] [--out DIR] [--operator-root OTHER_CHECKOUT]
//                                [--timeout-seconds 600] [--from-source] [--no-floor]
//                                [--node-options=--FLAG]
//
// The operator runs as its image runs it: the image's program files (sources compiled to .js) and
// environment (operator-program.ts), with the heap limit the chart gives it (maxHeapMiB in
// charts/mtopo/values.yaml, as NODE_OPTIONS=--max-old-space-size) and young-generation limit
// (maxSemiSpaceMiB, --max-semi-space-size); 0 for either runs it with V8's own sizing.
// --from-source runs operator/src/reconcile/main.ts instead (Node strips the types as it loads
// them), to compare. --no-floor measures the operator alone (its memory and CPU
// need no floor beside them); --node-options adds flags to the operator's node.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { KubernetesObject } from '@kubernetes/client-node';
import { load } from 'js-yaml';
import { ensureClusterBinaries } from '../../testing/control-plane/binaries.ts';
import { startControlPlane } from '../../testing/control-plane/control-plane.ts';
import { waitForCRDEstablished } from '../../testing/control-plane/crd.ts';
import { loadKubeConfig } from '../../testing/control-plane/kubeconfig.ts';
import { applyConcurrently, type Counts } from './api.ts';
import {
  measureKubectl,
  measureOperator,
  type Cluster,
  type FloorResult,
  type OperatorResult,
} from './measure.ts';
import { stageOperator, type OperatorProgram } from './operator-program.ts';
import { loadAverage } from './proc.ts';
import { summarizeHeap } from './heap.ts';
import { summarizeProfile } from './profile.ts';
import { namespaceNames, namespaceObjects, renderChildren, REPO_ROOT, siteResources } from './sites.ts';

const { values } = parseArgs({
  options: {
    sites: { type: 'string', default: '100' },
    runs: { type: 'string', default: '3' },
    workers: { type: 'string', default: '4' },
    'cpu-prof': { type: 'boolean', default: false },
    'heap-snapshot': { type: 'boolean', default: false },
    'max-heap-mib': { type: 'string' },
    'max-semi-space-mib': { type: 'string' },
    out: { type: 'string', default: path.join(REPO_ROOT, 'out/bench-operator') },
    'timeout-seconds': { type: 'string', default: '600' },
    'operator-root': { type: 'string', default: REPO_ROOT },
    'from-source': { type: 'boolean', default: false },
    'no-floor': { type: 'boolean', default: false },
    'node-options': { type: 'string', default: '' },
  },
});
const SITES = Number(values.sites);
/** The chart's V8 limits unless told otherwise: the operator is measured as it is deployed. */
const CHART_VALUES = load(readFileSync(path.join(REPO_ROOT, 'charts/mtopo/values.yaml'), 'utf8')) as {
  maxHeapMiB: number;
  maxSemiSpaceMiB: number;
};
const MAX_HEAP_MIB = Number(values['max-heap-mib'] ?? CHART_VALUES.maxHeapMiB);
const MAX_SEMI_SPACE_MIB = Number(values['max-semi-space-mib'] ?? CHART_VALUES.maxSemiSpaceMiB);
const RUNS = Number(values.runs);
const WORKERS = Number(values.workers);
const OUT = path.resolve(values.out);
/** Each measurement's limit: 1,000 sites (34,000 objects) take minutes, and at a load of 20 on 2 cores 100 sites took over 4. */
const MEASURE_TIMEOUT_MS = Math.max(600_000, SITES * 2400);
/** Whose operator is run: another checkout, to compare a change. */
const OPERATOR_ROOT = path.resolve(values['operator-root']);

// Everything is bounded: past the limit, exit; the exit hooks end the operator, kubectl and the
// control plane (and the control plane's reaper cleans up if even that fails).
const limit = setTimeout(
  () => {
    console.error(`bench-operator: over ${values['timeout-seconds']}s; giving up`);
    process.exit(2);
  },
  Number(values['timeout-seconds']) * 1000,
);
limit.unref();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

const SERVICE_CIDR: KubernetesObject = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'ServiceCIDR',
  metadata: { name: 'mtopo-bench' },
  spec: { cidrs: ['10.96.0.0/16'] },
} as KubernetesObject;

const say = (text: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${text}`);
const median = (xs: readonly number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const medianCounts = (all: readonly Counts[]): Counts => {
  const keys = [...new Set(all.flatMap((c) => Object.keys(c)))].sort();
  return Object.fromEntries(keys.map((k) => [k, median(all.map((c) => c[k] ?? 0))]));
};

/** A fresh control plane, made ready for either measurement (CRDs, Service range, kubectl cache). */
async function freshCluster(binDir: string): Promise<{ cluster: Cluster; stop: () => Promise<void> }> {
  // Each site has two load-balanced Services with three ports: the default NodePort range (2,768
  // ports) runs out before 1,000 sites.
  const controlPlane = await startControlPlane({
    binDir,
    apiServerFlags: ['--service-node-port-range=30000-39999'],
  });
  try {
    const kubeConfig = loadKubeConfig(controlPlane.kubeconfigPath);
    const cluster: Cluster = {
      kubeConfig,
      kubeconfigPath: controlPlane.kubeconfigPath,
      binDir,
      kubectlCacheDir: path.join(controlPlane.dir, 'kubectl-cache'),
      servers: controlPlane.processes.map((p) => ({ name: p.name, pid: p.pid })),
    };
    const crds = readdirSync(path.join(REPO_ROOT, 'crds'))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => load(readFileSync(path.join(REPO_ROOT, 'crds', f), 'utf8')) as KubernetesObject);
    await applyConcurrently(kubeConfig, [...crds, SERVICE_CIDR], 1);
    for (const crd of crds) await waitForCRDEstablished(kubeConfig, crd.metadata!.name!);
    // kubectl's discovery cache, as on any workstation: the floor is the applies, not discovery.
    execFileSync(path.join(binDir, 'kubectl'), ['api-resources'], {
      env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath, KUBECACHEDIR: cluster.kubectlCacheDir },
      stdio: 'ignore',
      timeout: 30_000,
    });
    return { cluster, stop: () => controlPlane.stop() };
  } catch (error) {
    await controlPlane.stop();
    throw error;
  }
}

rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const OPERATOR: OperatorProgram = values['from-source']
  ? { main: path.join(OPERATOR_ROOT, 'operator/src/reconcile/main.ts'), env: {} }
  : stageOperator(OPERATOR_ROOT, path.join(OUT, 'operator-program'));
const startedAt = performance.now();
const binDir = await ensureClusterBinaries();
/** Load averages just before each measurement: how busy the machine was with other work. */
type Loaded = { loadBefore: number[] };
const floors: (FloorResult & Loaded)[] = [];
const operators: (OperatorResult & Loaded)[] = [];

for (let run = 1; run <= RUNS; run++) {
  // Alternating which goes first evens out drift (the machine warming up, another job starting).
  const order = run % 2 === 1 ? (['kubectl', 'operator'] as const) : (['operator', 'kubectl'] as const);
  for (const mode of order) {
    if (mode === 'kubectl' && values['no-floor']) continue;
    const label = `${run}-${mode}`;
    const dir = path.join(OUT, label);
    mkdirSync(dir, { recursive: true });
    const namespaces = namespaceNames(`bench-${run}-${mode === 'kubectl' ? 'k' : 'o'}`, SITES);
    const resources = siteResources(namespaces);
    const kinds = await renderChildren(
      resources,
      path.join(dir, 'sites.yaml'),
      path.join(dir, 'children.yaml'),
    );
    const expectedChildren = [...kinds.values()].reduce((a, b) => a + b, 0);
    const { cluster, stop } = await freshCluster(binDir);
    try {
      await applyConcurrently(cluster.kubeConfig, namespaceObjects(namespaces, label));
      if (mode === 'kubectl') {
        const load = loadAverage();
        say(`run ${run}: kubectl apply --server-side of ${expectedChildren} objects in ${SITES} namespaces`);
        const floor = await measureKubectl(
          cluster,
          path.join(dir, 'children.yaml'),
          path.join(dir, 'kubectl.log'),
          MEASURE_TIMEOUT_MS,
        );
        if (floor.objects !== expectedChildren)
          throw new Error(`kubectl applied ${floor.objects} objects, not ${expectedChildren}`);
        say(`  ${floor.seconds.toFixed(2)}s (load before ${load.join(' ')})`);
        floors.push({ ...floor, loadBefore: load });
      } else {
        await applyConcurrently(cluster.kubeConfig, resources);
        const load = loadAverage();
        say(
          `run ${run}: the operator on ${SITES} sites (${resources.length} resources, ${expectedChildren} children)`,
        );
        const result = await measureOperator(cluster, {
          program: OPERATOR,
          namespaces,
          resources: resources.length,
          childKinds: [...kinds.keys()],
          workers: WORKERS,
          logPath: path.join(dir, 'operator.log'),
          timeoutMs: MEASURE_TIMEOUT_MS,
          ...(values['cpu-prof'] ? { cpuProfileDir: dir } : {}),
          ...(values['heap-snapshot'] ? { heapSnapshotDir: dir } : {}),
          nodeFlags: [
            ...(MAX_HEAP_MIB > 0 ? [`--max-old-space-size=${MAX_HEAP_MIB}`] : []),
            ...(MAX_SEMI_SPACE_MIB > 0 ? [`--max-semi-space-size=${MAX_SEMI_SPACE_MIB}`] : []),
            ...values['node-options'].split(' ').filter((flag) => flag !== ''),
          ],
        });
        for (const [kind, count] of Object.entries(result.childrenFound)) {
          const expected = kind === 'Secret' ? SITES : (kinds.get(kind) ?? 0);
          if (count !== expected)
            throw new Error(`${count} ${kind}s after the operator's run, not ${expected}`);
        }
        say(
          `  children ${result.childrenAppliedSeconds.toFixed(2)}s, statuses ${result.convergedSeconds.toFixed(2)}s, ` +
            `settled ${result.settledCapped ? '≥ ' : ''}${result.settledSeconds.toFixed(2)}s, peak RSS ${(result.peakRssBytes / 2 ** 20).toFixed(0)} MiB ` +
            `(load before ${load.join(' ')})`,
        );
        operators.push({ ...result, loadBefore: load });
        if (values['heap-snapshot']) {
          const snapshot = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot'));
          if (snapshot)
            writeFileSync(
              path.join(dir, 'heap.txt'),
              summarizeHeap(readFileSync(path.join(dir, snapshot), 'utf8')),
            );
        }
        if (values['cpu-prof']) {
          writeFileSync(
            path.join(dir, 'profile.txt'),
            summarizeProfile(readFileSync(path.join(dir, 'operator.cpuprofile'), 'utf8')),
          );
        }
      }
    } finally {
      await stop();
    }
  }
}

const floor = median(floors.map((f) => f.seconds));
const children = median(operators.map((o) => o.childrenAppliedSeconds));
const converged = median(operators.map((o) => o.convergedSeconds));
const settled = median(operators.map((o) => o.settledSeconds));
const summary = {
  machine: {
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
  },
  sites: SITES,
  runs: RUNS,
  workers: WORKERS,
  medians: {
    floorSeconds: floor,
    operatorStartupSeconds: median(operators.map((o) => o.startupSeconds)),
    operatorChildrenAppliedSeconds: children,
    operatorConvergedSeconds: converged,
    operatorSettledSeconds: settled,
    ratioChildren: children / floor,
    ratioConverged: converged / floor,
    // Each run's operator against the floor measured next to it: steadier when the machine's load
    // changes between runs.
    pairedRatioChildren: median(
      operators.map((o, i) => o.childrenAppliedSeconds / (floors[i]?.seconds ?? Number.NaN)),
    ),
    pairedRatioConverged: median(
      operators.map((o, i) => o.convergedSeconds / (floors[i]?.seconds ?? Number.NaN)),
    ),
    settledCappedRuns: operators.filter((o) => o.settledCapped).length,
    operatorPeakRssMiB: median(operators.map((o) => o.peakRssBytes / 2 ** 20)),
    operatorSettledRssMiB: median(operators.map((o) => o.settledRssBytes / 2 ** 20)),
    operatorMaxHeapMiB: MAX_HEAP_MIB,
    operatorHeapUsedMiB: median(operators.map((o) => o.heapUsedBytes / 2 ** 20)),
    operatorHeapTotalMiB: median(operators.map((o) => o.heapTotalBytes / 2 ** 20)),
    operatorExternalMiB: median(operators.map((o) => o.externalBytes / 2 ** 20)),
    operatorCpuSeconds: median(operators.map((o) => o.cpuSeconds)),
    kubectlCpuSeconds: median(floors.map((x) => x.kubectlCpuSeconds)),
    operatorReconciles: medianCounts(operators.map((o) => o.reconciles)),
    operatorRenders: median(operators.map((o) => o.renders)),
    operatorRequestsByVerb: medianCounts(operators.map((o) => o.requestsByVerb)),
    floorApiserverRequests: medianCounts(floors.map((f) => f.apiserverRequests)),
    operatorApiserverRequests: medianCounts(operators.map((o) => o.apiserverRequests)),
    floorServerCpuSeconds: medianCounts(floors.map((f) => f.serverCpuSeconds)),
    operatorServerCpuSeconds: medianCounts(operators.map((o) => o.serverCpuSeconds)),
  },
  floors,
  operators,
  totalSeconds: (performance.now() - startedAt) / 1000,
};
writeFileSync(path.join(OUT, 'results.json'), `${JSON.stringify(summary, null, 2)}\n`);

const f = (x: number) => x.toFixed(2);
const counts = (c: Counts) =>
  Object.entries(c)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
const m = summary.medians;
console.log(`
${SITES} sites, ${RUNS} runs each (median), ${WORKERS} workers; ${summary.machine.cpus} × ${summary.machine.model}

| | seconds | × floor |
| --- | ---: | ---: |
| floor: kubectl apply --server-side (${floors[0]?.objects ?? 0} objects) | ${f(floor)} | 1.00 |
| operator: caches synced | ${f(m.operatorStartupSeconds)} | |
| operator: every child applied | ${f(children)} | ${f(m.ratioChildren)} |
| operator: every status written (converged) | ${f(converged)} | ${f(m.ratioConverged)} |
| operator: last status change (settled${m.settledCappedRuns ? `; ${m.settledCappedRuns} run(s) still changing at the cap` : ''}) | ${f(settled)} | ${f(settled / floor)} |

median of the per-run ratios: children ${f(m.pairedRatioChildren)}, converged ${f(m.pairedRatioConverged)}

runs (floor / children / converged / settled, seconds):
${floors.map((x, i) => `  ${i + 1}: ${f(x.seconds)} / ${f(operators[i]?.childrenAppliedSeconds ?? NaN)} / ${f(operators[i]?.convergedSeconds ?? NaN)} / ${f(operators[i]?.settledSeconds ?? NaN)}`).join('\n')}
operator requests by verb: ${counts(m.operatorRequestsByVerb)}; site reconciles: ${counts(m.operatorReconciles)}, of which rendered: ${m.operatorRenders}
kubectl CPU ${f(m.kubectlCpuSeconds)} s
operator peak RSS ${m.operatorPeakRssMiB.toFixed(0)} MiB, settled RSS ${m.operatorSettledRssMiB.toFixed(0)} MiB, heap limit ${m.operatorMaxHeapMiB > 0 ? `${m.operatorMaxHeapMiB} MiB` : "Node's default"} (settled: V8 heap ${m.operatorHeapUsedMiB.toFixed(0)} MiB used of ${m.operatorHeapTotalMiB.toFixed(0)}, external ${m.operatorExternalMiB.toFixed(0)} MiB), CPU ${f(m.operatorCpuSeconds)} s
API server requests (all clients) during the floor: ${counts(m.floorApiserverRequests)}
API server requests (all clients) during the operator: ${counts(m.operatorApiserverRequests)}
server CPU seconds during the floor: ${counts(m.floorServerCpuSeconds)}
server CPU seconds during the operator: ${counts(m.operatorServerCpuSeconds)}
total ${summary.totalSeconds.toFixed(0)} s
results: ${path.relative(process.cwd(), path.join(OUT, 'results.json'))}`);
