// The two measurements, each on a fresh control plane and its own namespaces:
//
// - the floor: one `kubectl apply --server-side -f` of every site's rendered children, timed from
//   spawn to exit;
// - the operator: its own process, run as its image runs it (operator-program.ts: compiled
//   JavaScript, the image's environment) with `--namespace ''`, started with the sites' resources
//   already in place, timed from spawn until every child is applied
//   (its log), until every resource's status is written (a watch), and until it goes quiet.
import { spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  createWriteStream,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import { fetch } from 'undici';
import { freePorts } from '../../testing/support/free-ports.ts';
import {
  apiserverRequestsByVerb,
  countChildren,
  difference,
  StatusTracker,
  sumCounterBy,
  type Counts,
} from './api.ts';
import { waitFor } from '../../testing/support/wait.ts';
import type { OperatorProgram } from './operator-program.ts';
import { cpuSeconds, statusBytes } from './proc.ts';

export interface Cluster {
  readonly kubeConfig: KubeConfig;
  readonly kubeconfigPath: string;
  readonly binDir: string;
  /** kubectl's discovery cache, shared by every kubectl run (warmed once before the first). */
  readonly kubectlCacheDir: string;
  /** The control plane's processes, for their CPU time. */
  readonly servers: readonly { name: string; pid: number }[];
}

/** CPU seconds each control-plane process used during a measurement. */
export type ServerCpu = Record<string, number>;

function serverCpu(cluster: Cluster): ServerCpu {
  return Object.fromEntries(cluster.servers.map((s) => [s.name, cpuSeconds(s.pid) ?? Number.NaN]));
}

function cpuDifference(after: ServerCpu, before: ServerCpu): ServerCpu {
  return Object.fromEntries(
    Object.entries(after).map(([name, seconds]) => [name, +(seconds - (before[name] ?? 0)).toFixed(2)]),
  );
}

/** Processes to signal if the benchmark itself exits early (an error, Ctrl-C, its time limit). */
const stopOnExit = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of stopOnExit) child.kill('SIGKILL');
});

/** Resolves with the exit code; kills the process (by its PID) if it outlives `timeoutMs`. */
/** Asks the operator for a heap snapshot (SIGUSR2) and waits until the file is written. */
async function heapSnapshot(pid: number, dir: string): Promise<string> {
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  let size = -1;
  return waitFor(
    'the heap snapshot written',
    () => {
      const file = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
      if (!file) return undefined;
      // Written when its size stops changing between two looks.
      const now = statSync(path.join(dir, file)).size;
      const done = now > 0 && now === size;
      size = now;
      return done ? path.join(dir, file) : undefined;
    },
    { intervalMs: 1000, timeoutMs: 120_000 },
  );
}

async function exitWithin(child: ChildProcess, timeoutMs: number, what: string): Promise<number> {
  if (child.exitCode !== null) return child.exitCode;
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    if (signal === 'SIGKILL') throw new Error(`${what} did not finish within ${timeoutMs / 1000}s; killed`);
    return code ?? -1;
  } finally {
    clearTimeout(timer);
  }
}

export interface FloorResult {
  readonly seconds: number;
  readonly objects: number;
  readonly kubectlCpuSeconds: number;
  readonly apiserverRequests: Counts;
  readonly serverCpuSeconds: ServerCpu;
}

export async function measureKubectl(
  cluster: Cluster,
  childrenPath: string,
  logPath: string,
  timeoutMs = 240_000,
): Promise<FloorResult> {
  const apiBefore = await apiserverRequestsByVerb(cluster.kubeConfig);
  const cpuBefore = serverCpu(cluster);
  const log = openSync(logPath, 'w');
  const started = performance.now();
  const child = spawn(
    path.join(cluster.binDir, 'kubectl'),
    ['apply', '--server-side', '--field-manager=bench-kubectl', '-f', childrenPath],
    {
      env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath, KUBECACHEDIR: cluster.kubectlCacheDir },
      stdio: ['ignore', log, log],
    },
  );
  closeSync(log);
  stopOnExit.add(child);
  // Its CPU time, read from /proc while it runs (the last 100 ms may be missed).
  let kubectlCpu = 0;
  const sampler = setInterval(() => (kubectlCpu = cpuSeconds(child.pid!) ?? kubectlCpu), 100);
  const code = await exitWithin(child, timeoutMs, 'kubectl apply').finally(() => {
    clearInterval(sampler);
    stopOnExit.delete(child);
  });
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = serverCpu(cluster);
  const output = readFileSync(logPath, 'utf8');
  if (code !== 0) throw new Error(`kubectl apply exited with ${code}:\n${output.slice(-2000)}`);
  return {
    seconds,
    objects: output.split('\n').filter((l) => l.endsWith(' serverside-applied')).length,
    kubectlCpuSeconds: kubectlCpu,
    apiserverRequests: difference(await apiserverRequestsByVerb(cluster.kubeConfig), apiBefore),
    serverCpuSeconds: cpuDifference(cpuAfter, cpuBefore),
  };
}

export interface OperatorResult {
  /** Spawn → "caches synced; reconciling" in its log. */
  readonly startupSeconds: number;
  /** Spawn → the last child created (its log), every child of every site. */
  readonly childrenAppliedSeconds: number;
  /** Spawn → every topology, relay and pool has status.observedGeneration = generation. */
  readonly convergedSeconds: number;
  /** Spawn → the last status change before the operator went quiet (no write for `quietMs`). */
  readonly settledSeconds: number;
  /** The operator was still writing statuses settleMaxMs after converging. */
  readonly settledCapped: boolean;
  readonly childrenCreated: number;
  readonly statusChanges: number;
  /** Site reconciles (counted on the topology) by result (done, retry, error). */
  readonly reconciles: Counts;
  /** Reconciles that validated and rendered the site (the others found it unchanged). */
  readonly renders: number;
  readonly requestsByVerb: Counts;
  readonly requestsByVerbAndKind: Counts;
  readonly peakRssBytes: number;
  /** Resident memory once settled (VmRSS), beside the peak (VmHWM). */
  readonly settledRssBytes: number;
  /** V8 heap in use, heap reserved, and memory outside it (buffers), once settled. */
  readonly heapUsedBytes: number;
  readonly heapTotalBytes: number;
  readonly externalBytes: number;
  readonly cpuSeconds: number;
  readonly apiserverRequests: Counts;
  readonly serverCpuSeconds: ServerCpu;
  readonly childrenFound: Counts;
}

export interface OperatorRunOptions {
  /** What runs: the image's entrypoint and environment (operator-program.ts), or a source file. */
  readonly program: OperatorProgram;
  readonly namespaces: readonly string[];
  /** MessagingTopologies + MTARelays + MMPPools in those namespaces. */
  readonly resources: number;
  readonly childKinds: readonly string[];
  readonly workers: number;
  readonly logPath: string;
  /** Write a V8 CPU profile of the operator here (node --cpu-prof). */
  readonly cpuProfileDir?: string;
  /** Write a V8 heap snapshot of the settled operator here (node --heapsnapshot-signal). */
  readonly heapSnapshotDir?: string;
  /** Flags for the operator's node, such as the chart's --max-old-space-size. */
  readonly nodeFlags?: readonly string[];
  readonly quietMs?: number;
  readonly settleMaxMs?: number;
  readonly timeoutMs?: number;
}

interface LogLine {
  time: number;
  msg: string;
  /** On the operator's "applied" line: how many children that reconcile created or changed. */
  objects?: number;
}

const SYNCED = 'caches synced; reconciling';
/** The operator's log line after each reconcile that created or changed children. */
const APPLIED = 'applied';
const TIMED_MESSAGES = new Set([SYNCED, APPLIED]);

async function operatorMetrics(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) });
  return response.text();
}

function gauge(metricsText: string, name: string): number {
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metricsText)?.[1] ?? Number.NaN);
}

const WRITE_VERBS = new Set(['apply', 'apply-status', 'create', 'patch', 'update', 'delete']);

function writesIn(metricsText: string): number {
  const byVerb = sumCounterBy(metricsText, 'mtopo_api_requests_total', 'verb');
  return Object.entries(byVerb)
    .filter(([verb]) => WRITE_VERBS.has(verb))
    .reduce((sum, [, n]) => sum + n, 0);
}

export async function measureOperator(
  cluster: Cluster,
  options: OperatorRunOptions,
): Promise<OperatorResult> {
  const { quietMs = 3000, settleMaxMs = 30_000, timeoutMs = 180_000 } = options;
  const tracker = new StatusTracker(cluster.kubeConfig, options.namespaces, options.resources);
  await tracker.start();
  const [port] = (await freePorts(1)) as [number];
  const apiBefore = await apiserverRequestsByVerb(cluster.kubeConfig);
  const cpuBefore = serverCpu(cluster);
  const nodeFlags = [
    ...(options.nodeFlags ?? []),
    ...(options.cpuProfileDir
      ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`, '--cpu-prof-name=operator.cpuprofile']
      : []),
    ...(options.heapSnapshotDir
      ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${options.heapSnapshotDir}`]
      : []),
  ];
  const spawnedAt = Date.now();
  const child = spawn(
    process.execPath,
    [
      ...nodeFlags,
      options.program.main,
      '--namespace',
      '',
      '--workers',
      String(options.workers),
      '--health-port',
      String(port),
      '--health-address',
      '127.0.0.1',
      '--log-level',
      'info',
    ],
    // Its log goes through a pipe, as a container's does, and from there to a file.
    {
      env: { ...process.env, ...options.program.env, KUBECONFIG: cluster.kubeconfigPath },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const logFile = createWriteStream(options.logPath);
  const logClosed = once(logFile, 'close');
  child.stdout.pipe(logFile);
  child.stderr.pipe(logFile, { end: false });
  // What the timings need from the log, and its last lines for an error message.
  const logLines: LogLine[] = [];
  const tail: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 40) tail.shift();
      if (!line.startsWith('{')) return;
      const { time, msg, objects } = JSON.parse(line) as LogLine;
      if (TIMED_MESSAGES.has(msg))
        logLines.push({ time, msg, ...(objects !== undefined ? { objects } : {}) });
    });
  }
  const pid = child.pid!;
  let exited = false;
  const exit = once(child, 'exit').finally(() => (exited = true));
  stopOnExit.add(child);
  try {
    // Converged: every resource's status written for its generation.
    const deadline = spawnedAt + timeoutMs;
    while (tracker.convergedAt === undefined) {
      tracker.check();
      if (exited) throw new Error(`the operator exited:\n${tail.join('\n')}`);
      if (Date.now() > deadline)
        throw new Error(
          `not converged after ${timeoutMs / 1000}s: ${tracker.observedCount()}/${options.resources} statuses`,
        );
      await sleep(100);
    }
    // Settled: no write by the operator and no status change for quietMs. The statuses follow the
    // controller-manager's work on the workloads (Progressing RollingOut → Stable), so this is
    // waited for at most settleMaxMs; past it, `settledCapped` says the figure is a lower bound.
    let writes = -1;
    let quietSince = Date.now();
    let settledCapped = false;
    const settleBy = Date.now() + settleMaxMs;
    for (;;) {
      await sleep(500);
      const now = writesIn(await operatorMetrics(port));
      if (now !== writes) quietSince = Date.now();
      writes = now;
      const lastChange = tracker.lastStatusChangeAt ?? 0;
      if (Date.now() - Math.max(quietSince, lastChange) >= quietMs) break;
      if (Date.now() > Math.min(deadline, settleBy)) {
        settledCapped = true;
        break;
      }
    }
    const peakRssBytes = statusBytes(pid, 'VmHWM') ?? Number.NaN;
    const settledRssBytes = statusBytes(pid, 'VmRSS') ?? Number.NaN;
    const operatorCpu = cpuSeconds(pid) ?? Number.NaN;
    const cpuAfter = serverCpu(cluster);
    const metricsText = await operatorMetrics(port);
    // Kept beside the log: the heap by space (nodejs_heap_space_size_*), request counts and more.
    writeFileSync(options.logPath.replace(/[^/]*$/, 'metrics.txt'), metricsText);
    const apiAfter = await apiserverRequestsByVerb(cluster.kubeConfig);
    // Last: writing the snapshot costs the operator CPU and memory the figures above must not count.
    if (options.heapSnapshotDir) await heapSnapshot(pid, options.heapSnapshotDir);

    const synced = logLines.find((l) => l.msg === SYNCED);
    const applied = logLines.filter((l) => l.msg === APPLIED);
    const lastCreated = Math.max(...applied.map((l) => l.time));
    const byVerbAndKind: Counts = {};
    for (const [, labels = '', value = '0'] of metricsText.matchAll(
      /^mtopo_api_requests_total\{([^}]*)\} (\S+)$/gm,
    )) {
      const verb = /verb="([^"]*)"/.exec(labels)?.[1];
      const kind = /kind="([^"]*)"/.exec(labels)?.[1];
      byVerbAndKind[`${verb} ${kind}`] = Number(value);
    }
    return {
      startupSeconds: synced ? (synced.time - spawnedAt) / 1000 : Number.NaN,
      childrenAppliedSeconds: (lastCreated - spawnedAt) / 1000,
      convergedSeconds: (tracker.convergedAt - spawnedAt) / 1000,
      settledSeconds: ((tracker.lastStatusChangeAt ?? tracker.convergedAt) - spawnedAt) / 1000,
      settledCapped,
      childrenCreated: applied.reduce((sum, l) => sum + (l.objects ?? 0), 0),
      statusChanges: tracker.statusChanges,
      reconciles: sumCounterBy(
        metricsText
          .split('\n')
          .filter((line) => line.includes('kind="MessagingTopology"'))
          .join('\n'),
        'mtopo_reconcile_total',
        'result',
      ),
      renders: gauge(metricsText, 'mtopo_renders_total'),
      requestsByVerb: sumCounterBy(metricsText, 'mtopo_api_requests_total', 'verb'),
      requestsByVerbAndKind: byVerbAndKind,
      peakRssBytes,
      settledRssBytes,
      heapUsedBytes: gauge(metricsText, 'nodejs_heap_size_used_bytes'),
      heapTotalBytes: gauge(metricsText, 'nodejs_heap_size_total_bytes'),
      externalBytes: gauge(metricsText, 'nodejs_external_memory_bytes'),
      cpuSeconds: operatorCpu,
      apiserverRequests: difference(apiAfter, apiBefore),
      serverCpuSeconds: cpuDifference(cpuAfter, cpuBefore),
      childrenFound: await countChildren(cluster.kubeConfig, options.namespaces, [
        ...options.childKinds,
        'Secret',
      ]),
    };
  } finally {
    await tracker.stop();
    writeFileSync(
      options.logPath.replace(/[^/]*$/, 'status-changes.jsonl'),
      tracker.changes.map((c) => JSON.stringify({ ...c, at: c.at - spawnedAt })).join('\n') + '\n',
    );
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exit;
    clearTimeout(timer);
    stopOnExit.delete(child);
    await logClosed;
  }
}
