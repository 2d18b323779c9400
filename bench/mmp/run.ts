// Benchmark: IMAP through the MMP, directly to the store, and through nginx's mail proxy with an
// auth_http endpoint that binds in the same slapd, in one run on this machine. The store is Dovecot
// in its high-performance login mode. The MMP runs on the config the operator renders for
// examples/siroe.yaml, localized to loopback, with logins in clear allowed (as nginx and the direct
// path are measured in clear: TLS would measure OpenSSL, the same for all three).
//
//   logins/s   20 workers, each: connect, LOGIN, SELECT, FETCH 1 (BODY[], 1 KiB), LOGOUT
//   MB/s       one session fetching a large message again and again (the splice's cost)
//
// Figures that survive a loaded machine, beside the wall-clock ones: CPU seconds per 1,000 logins and
// per GiB fetched for each path (utime + stime from /proc of every process on it: MMP + store +
// directory, nginx + auth_http + store + directory, the store alone), and the MMP's event-loop lag
// (prom-client's histogram, reset by each scrape) and the load generator's own, with the load average
// before each phase.
//
// Usage: node bench/mmp/run.ts [--seconds 10] [--concurrency 20] [--bulk-mb 8] [--fetches 20]
//        [--idle 9900] [--mmp-env rendered|none|K=V,K=V] [--mmp-code compiled|ts] [--cpu-prof DIR]
//        [--mmp-node-args=--perf-basic-prof,…] [--heap-snapshot DIR] [--store dovecot|mtopo]
//        [--rounds 3] [--warmup 2] [--bulk-pinned]
// The store behind all three paths: Dovecot 2.3 with a master user (the default, a store no one here
// wrote), or ours (images/store), which is what the MMP fronts in an mtopo site; nginx then logs in
// there with the proxy's proof that auth_http hands it.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { directoryConfig } from '../../testing/peers/directory-fixture.ts';
import { startDovecot } from '../../testing/peers/dovecot.ts';
import { startSlapd } from '../../testing/peers/slapd.ts';
import { makeSelfSignedCertificate } from '../../testing/peers/tls-fixture.ts';
import { freePort } from '../../testing/support/free-ports.ts';
import { machineMeter } from '../../testing/support/machine-cpu.ts';
import { cleanUpOnInterrupt, ManagedProcess } from '../../testing/support/processes.ts';
import { makeTempDir } from '../../testing/support/temp-dir.ts';
import { waitFor, waitForPort } from '../../testing/support/wait.ts';
import { startMmpProcess } from '../../images/mmp/testing/mmp-process.ts';
import { PROXY_SECRET, PROXY_USER, startStoreProcess } from '../../images/store/testing/store-process.ts';
import { fill } from '../store/imap-load.ts';
import { localize, renderedMmpConfig, renderedMmpEnv } from '../../images/mmp/testing/rendered-config.ts';
import { fetchThroughput, idleSessions, loginRate, type LoginRate } from './imap-load.ts';
import { openFileLimit, pinTree, treeCpuTimes, treeMemoryMap, treeRssMiB } from './rss.ts';
import { startNginxMail } from './nginx.ts';
import { compileMmp } from './compiled-mmp.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '20' },
    'bulk-mb': { type: 'string', default: '8' },
    fetches: { type: 'string', default: '20' },
    // 10,000 is what issue 11 names; a proxied session holds two descriptors and this machine's hard
    // limit is 20,000 (no CAP_SYS_RESOURCE to raise it), so a proxy process can hold about 9,980.
    idle: { type: 'string', default: '9900' },
    // The MMP's environment: the one the operator renders for its Deployment, none, or given.
    'mmp-env': { type: 'string', default: 'rendered' },
    // The MMP's code: compiled to JavaScript as its image ships it (the default), or the .ts sources
    // stripped by Node at load, as the tests run them.
    'mmp-code': { type: 'string', default: 'compiled' },
    out: { type: 'string', default: 'bench/mmp/results/latest.json' },
    /** A folder for the MMP's V8 CPU profile (--cpu-prof), written when it exits; cpu-profile.ts reads it. */
    'cpu-prof': { type: 'string' },
    /** More Node flags for the MMP, comma-separated (--perf-basic-prof, for `perf record -p`). */
    'mmp-node-args': { type: 'string', default: '' },
    /**
     * A folder for two V8 heap snapshots of the MMP (Node's --heapsnapshot-signal, this run only):
     * after the load phases and with the idle sessions open; bench/mmp/heap-diff.ts compares them.
     * Each snapshot collects garbage first and allocates, so the run's memory figures are not
     * comparable with other runs'.
     */
    'heap-snapshot': { type: 'string' },
    /** Seconds the idle sessions sit before a second reading of each proxy's memory. */
    'idle-settle': { type: 'string', default: '15' },
    store: { type: 'string', default: 'dovecot' },
    /**
     * The logins phases this many times over (direct, MMP, nginx, direct, …): the figures are the
     * rounds together, and each round's MMP / nginx ratio is kept beside them. The machine's speed
     * drifts from minute to minute; rounds close together see the same machine.
     */
    rounds: { type: 'string', default: '3' },
    /**
     * The bulk phase with the store and the client on the first CPU and the proxies (the MMP,
     * nginx) on the second: each path's store and client get the same core, and a proxy one of its
     * own, as on a node of its own. On two cores shared by all, the splice's copies take CPU from
     * the store and the client that the direct path does not.
     */
    'bulk-pinned': { type: 'boolean', default: false },
    /** Seconds of logins per path before any is measured (V8's tiers, heap sizes, Dovecot's processes). */
    warmup: { type: 'string', default: '2' },
  },
});
const SECONDS = Number(values.seconds);
const ROUNDS = Math.max(1, Number(values.rounds));
const WARMUP_SECONDS = Number(values.warmup);
const CONCURRENCY = Number(values.concurrency);
const BULK_BYTES = Number(values['bulk-mb']) * 1024 * 1024;
const SECRET = 'bench-proxy-secret';
// Clients log in by address, the account key the MMP logs in at the store with, so that nginx (which
// passes the typed name on) and the direct path reach the same Dovecot users.
const USERS = Array.from({ length: 20 }, (_, i) => ({
  uid: `bench${i}`,
  name: `bench${i}@example.test`,
  password: `bench${i}-pw`,
}));
const BULK = { uid: 'bulk', name: 'bulk@example.test', password: 'bulk-pw' };
// The idle sessions' users: 40 sessions each, under our store's 50 sessions per user.
const IDLE_USERS = Array.from({ length: Math.ceil(Number(values.idle) / 40) }, (_, i) => ({
  uid: `idle${i}`,
  name: `idle${i}@example.test`,
  password: `idle${i}-pw`,
}));

function mmpEnv(spec: string): Record<string, string> {
  if (spec === 'rendered') return renderedMmpEnv('siroe');
  if (spec === 'none') return {};
  return Object.fromEntries(
    spec.split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}
const MMP_ENV = mmpEnv(values['mmp-env']);
if (!['dovecot', 'mtopo'].includes(values.store))
  throw new Error(`--store ${values.store}: dovecot or mtopo`);
if (!['compiled', 'ts'].includes(values['mmp-code']))
  throw new Error(`--mmp-code ${values['mmp-code']}: compiled or ts`);

/** `uptime`'s line, for the record: every wall-clock figure depends on it. */
const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();

/**
 * Event-loop lag is measured by a timer every 10 ms (prom-client's default, and ours for the client):
 * the histogram holds the time between ticks, so the lag is what exceeds those 10 ms.
 */
const LAG_RESOLUTION_MS = 10;

/** Milliseconds between ticks → milliseconds of lag, to 0.01 ms. */
const lagMs = (betweenTicksMs: number) =>
  Math.max(0, Math.round((betweenTicksMs - LAG_RESOLUTION_MS) * 100) / 100);

/** The MMP's event-loop lag since the last scrape, in ms (prom-client resets it on each scrape). */
async function mmpLoopLag(httpPort: number): Promise<{ p50: number; p99: number; max: number }> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const read = (name: string) =>
    lagMs(Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)`, 'm').exec(text)?.[1] ?? NaN) * 1e3);
  return {
    p50: read('nodejs_eventloop_lag_p50_seconds'),
    p99: read('nodejs_eventloop_lag_p99_seconds'),
    max: read('nodejs_eventloop_lag_max_seconds'),
  };
}

/** Store connections our store handed back to the MMP after LOGOUT so far (docs/mmp.md). */
async function mmpHandbacks(httpPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  return Number(/^mtopo_mmp_store_handbacks_total\{[^}]*\} (\S+)/m.exec(text)?.[1] ?? 0);
}

/**
 * Where the MMP's memory is: its mappings (rss.ts) beside V8's own account from prom-client's
 * default metrics (heap committed and used, each space's committed size, external memory: the
 * buffers' backing stores, which live in malloc), MiB.
 */
async function mmpMemory(pid: number, httpPort: number) {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const mib = (pattern: string) =>
    Math.round((Number(new RegExp(`^${pattern} (\\S+)`, 'm').exec(text)?.[1] ?? NaN) / 2 ** 20) * 10) / 10;
  const spaces = Object.fromEntries(
    [...text.matchAll(/^nodejs_heap_space_size_total_bytes\{space="(\w+)"[^}]*\} (\S+)/gm)].map((m) => [
      m[1]!,
      Math.round((Number(m[2]) / 2 ** 20) * 10) / 10,
    ]),
  );
  return {
    ...treeMemoryMap(pid),
    v8: {
      heapTotal: mib('nodejs_heap_size_total_bytes\\{[^}]*\\}'),
      heapUsed: mib('nodejs_heap_size_used_bytes\\{[^}]*\\}'),
      external: mib('nodejs_external_memory_bytes\\{[^}]*\\}'),
      spaces,
    },
  };
}

/** The load generator's own lag over a phase: if it is high, the figures are the client's. */
function clientLoopLag() {
  const h = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  h.enable();
  return () => {
    h.disable();
    const ms = (ns: number) => lagMs(ns / 1e6);
    return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) };
  };
}

type Credentials = { name: string; password: string };

/** The store behind every path, and what each path needs to log in there. */
interface Backend {
  readonly imapPort: number;
  readonly pop3Port: number;
  readonly pid: number;
  /** The secret the MMP proves itself with. */
  readonly proxySecret: string;
  /** auth_http's last arguments: nginx logs in as the user (Dovecot) or with the proxy's proof (ours). */
  readonly nginxLogin: string[];
  /** How the direct path logs in as a user: with the user's password, or with the proxy's proof. */
  direct(user: Credentials): Credentials;
  stop(): Promise<void>;
}

async function startBackend(kind: 'dovecot' | 'mtopo', dir: string): Promise<Backend> {
  if (kind === 'dovecot') {
    const dovecot = await startDovecot(dir, {
      master: { name: 'mmp', password: SECRET },
      highPerformanceLogin: true,
      users: [
        ...USERS.map((u) => ({ ...u, inbox: ['a message'], bodyBytes: 1024 })),
        { ...BULK, inbox: ['a large message'], bodyBytes: BULK_BYTES },
        ...IDLE_USERS.map((u) => ({ ...u, inbox: ['a message'], bodyBytes: 1024 })),
      ],
    });
    return {
      imapPort: dovecot.imapPort,
      pop3Port: dovecot.pop3Port,
      pid: dovecot.process.pid,
      proxySecret: SECRET,
      nginxLogin: [],
      direct: (user) => user,
      stop: () => dovecot.stop(),
    };
  }
  // At info, its default, as Dovecot logs here: a line per login.
  const store = await startStoreProcess(dir, {
    maxConnections: 20_000,
    maxMessageBytes: BULK_BYTES + 1024 * 1024,
    domains: ['example.test'],
  });
  const quote = (s: string) => `"${s}"`;
  const proof = (user: string) => ({ name: quote(`${user}*${PROXY_USER}`), password: quote(PROXY_SECRET) });
  const filler = {
    imapPort: store.ports.imap,
    login: (user: string) => `${proof(user).name} ${proof(user).password}`,
  };
  for (const user of USERS) await fill(filler, user.name, 1, 1024);
  await fill(filler, BULK.name, 1, BULK_BYTES);
  return {
    imapPort: store.ports.imap,
    pop3Port: store.ports.pop3,
    pid: store.process.pid,
    proxySecret: PROXY_SECRET,
    nginxLogin: [PROXY_USER, PROXY_SECRET],
    direct: (user) => proof(user.name),
    stop: () => store.stop(),
  };
}

const dir = makeTempDir('mmp-bench');
// Everything started here is stopped here, by its PID, also on Ctrl-C (a killed run left its
// slapd, store, MMP and nginx running).
const stops: (() => Promise<void>)[] = [];
const stopAll = async () => {
  for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
};
cleanUpOnInterrupt(() => stopAll().then(() => dir.remove()));
try {
  const tls = await makeSelfSignedCertificate(dir.path);
  const slapd = await startSlapd(
    join(dir.path, 'slapd'),
    [...USERS, BULK, ...IDLE_USERS].map((u) => ({
      uid: u.uid,
      password: u.password,
      mail: u.name,
      mailHost: 'siroe-store-0',
    })),
  );
  stops.push(() => slapd.stop());
  const store = await startBackend(values.store as 'dovecot' | 'mtopo', join(dir.path, 'store'));
  stops.push(() => store.stop());
  const directory = directoryConfig(slapd, dir.path, { cacheTTLSeconds: 60 });
  const mmpDir = join(dir.path, 'mmp');
  mkdirSync(mmpDir, { recursive: true });
  const storePorts = { imapPort: store.imapPort, pop3Port: store.pop3Port };
  const rendered = renderedMmpConfig('siroe');
  const config = await localize(rendered, {
    dir: mmpDir,
    directory,
    tls,
    proxySecret: store.proxySecret,
    stores: Object.fromEntries(Object.values(rendered.stores).map((s) => [s.host, storePorts])),
  });
  // All the load comes from one address (loopback): the per-client limit is lifted, as nginx has none.
  const listeners = config.listeners.map((l) => ({
    ...l,
    maxConnectionsPerClient: 100_000,
    maxConnections: 100_000,
  }));
  const mmp = await startMmpProcess(
    { ...config, listeners, plaintextLogin: true, common: { ...config.common, logLevel: 'warn' } },
    mmpDir,
    undefined,
    {
      nodeArgs: [
        ...(values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : []),
        ...(values['heap-snapshot']
          ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${values['heap-snapshot']}`]
          : []),
        ...values['mmp-node-args'].split(',').filter(Boolean),
      ],
      env: MMP_ENV,
      ...(values['mmp-code'] === 'compiled' ? { main: compileMmp(join(dir.path, 'mmp-code')) } : {}),
    },
  );
  // The MMP's RSS once it listens, before any session: its base, whatever the load does later.
  const mmpStartMiB = treeRssMiB(mmp.process.pid);
  const memory: Record<string, unknown> = {
    mmpAtStart: await mmpMemory(mmp.process.pid, config.common.httpPort),
  };
  process.stdout.write(`MMP env ${JSON.stringify(MMP_ENV)}, ${mmpStartMiB.toFixed(1)} MiB at start\n`);
  stops.push(() => mmp.stop());

  const nginxDir = join(dir.path, 'nginx');
  mkdirSync(nginxDir, { recursive: true });
  const authPort = await freePort();
  const directoryFile = join(nginxDir, 'directory.json');
  writeFileSync(directoryFile, JSON.stringify(directory));
  const auth = ManagedProcess.spawn(
    'auth-http',
    process.execPath,
    [
      new URL('./auth-http.ts', import.meta.url).pathname,
      String(authPort),
      directoryFile,
      String(store.imapPort),
      ...store.nginxLogin,
    ],
    { logFile: join(nginxDir, 'auth-http.log') },
  );
  stops.push(() => auth.stop());
  await waitForPort(authPort);
  const nginx = await startNginxMail(nginxDir, authPort, ['IMAP4rev1', 'IDLE', 'LITERAL+', 'SASL-IR']);
  stops.push(() => nginx.stop());

  const targets = { direct: store.imapPort, mmp: mmp.ports.imap!, nginx: nginx.port };
  const pids = {
    store: store.pid,
    mmp: mmp.process.pid,
    nginx: nginx.process.pid,
    authHttp: auth.pid,
    slapd: slapd.process.pid,
  };
  // Every process a path's sessions go through (the direct path logs in with the store's own check).
  const pathProcesses: Record<keyof typeof targets, (keyof typeof pids)[]> = {
    direct: ['store'],
    mmp: ['mmp', 'store', 'slapd'],
    nginx: ['nginx', 'authHttp', 'store', 'slapd'],
  };
  type Path = keyof typeof targets;
  const paths = Object.keys(targets) as Path[];
  /** Runs `work` and returns its result with each watched process's CPU seconds and the lags. */
  const measured = async <T>(work: () => Promise<T>) => {
    const load = uptime();
    const times = (): Record<string, { user: number; system: number }> => ({
      ...Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, treeCpuTimes(pid)])),
      // The load generator shares the two cores with every path.
      client: (({ user, system }) => ({ user: user / 1e6, system: system / 1e6 }))(process.cpuUsage()),
    });
    const before = times();
    const handbacksBefore = await mmpHandbacks(mmp.config.common.httpPort);
    const machineSince = machineMeter();
    await mmpLoopLag(mmp.config.common.httpPort);
    const client = clientLoopLag();
    const result = await work();
    const clientLag = client();
    const mmpLag = await mmpLoopLag(mmp.config.common.httpPort);
    const after = times();
    const machine = machineSince();
    const handbacks = (await mmpHandbacks(mmp.config.common.httpPort)) - handbacksBefore;
    const stealPercent = machine.stealPercent;
    const round = (n: number) => Math.round(n * 100) / 100;
    const split = Object.fromEntries(
      Object.entries(after).map(([k, t]) => [
        k,
        { user: round(t.user - before[k]!.user), system: round(t.system - before[k]!.system) },
      ]),
    ) as Record<keyof typeof pids | 'client', { user: number; system: number }>;
    const cpu = Object.fromEntries(
      Object.entries(split).map(([k, t]) => [k, round(t.user + t.system)]),
    ) as Record<keyof typeof pids | 'client', number>;
    return {
      result,
      cpu,
      split,
      machine,
      handbacks,
      load,
      stealPercent,
      lagMs: { mmp: mmpLag, client: clientLag },
    };
  };
  /** Milliseconds of user and kernel CPU per operation of each process on a path, and the client's. */
  const perOperationMs = (
    path: Path,
    split: Record<string, { user: number; system: number }>,
    operations: number,
  ) =>
    Object.fromEntries(
      [...pathProcesses[path], 'client'].map((k) => [
        k,
        {
          user: Math.round((split[k]!.user * 1e5) / Math.max(1, operations)) / 100,
          system: Math.round((split[k]!.system * 1e5) / Math.max(1, operations)) / 100,
        },
      ]),
    );
  const pathCpu = (path: Path, cpu: Record<keyof typeof pids, number>) =>
    pathProcesses[path].reduce((sum, p) => sum + cpu[p], 0);
  /** User and kernel milliseconds a login of a path's processes other than the store. */
  const proxyMsPerLogin = (rate: { msPerLogin: Record<string, { user: number; system: number }> }) =>
    Object.entries(rate.msPerLogin)
      .filter(([process]) => process !== 'store' && process !== 'client')
      .reduce((sum, [, ms]) => sum + ms.user + ms.system, 0);

  // A short warm-up per target (JIT, Dovecot's login processes, the MMP's login cache).
  /** Each path's users: the direct one logs in at the store itself. */
  const usersOf = (path: Path) => (path === 'direct' ? USERS.map((u) => store.direct(u)) : USERS);
  for (const path of paths) await loginRate(targets[path], usersOf(path), CONCURRENCY, WARMUP_SECONDS);
  type Measured = Awaited<ReturnType<typeof measured<LoginRate>>>;
  const byRound: Record<Path, Measured>[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const round = {} as Record<Path, Measured>;
    for (const path of paths) {
      const m = await measured(() => loginRate(targets[path], usersOf(path), CONCURRENCY, SECONDS));
      round[path] = m;
      const cpuSecondsPer1000 = (pathCpu(path, m.cpu) * 1000) / Math.max(1, m.result.sessions);
      const msPerLogin = perOperationMs(path, m.split, m.result.sessions);
      const machineMs = (m.machine.busySeconds * 1000) / Math.max(1, m.result.sessions);
      process.stdout.write(
        `${ROUNDS > 1 ? `round ${r + 1}, ` : ''}${path}: ${m.result.perSecond.toFixed(0)} logins/s (${m.result.errors} errors), ${cpuSecondsPer1000.toFixed(2)} CPU s per 1,000, the machine ${machineMs.toFixed(2)} ms a login and ${m.machine.idlePercent} % idle, ${m.handbacks} store connections handed back, greeting ${JSON.stringify(m.result.greetingMs)} ms, lag ${JSON.stringify(m.lagMs)}; CPU s ${JSON.stringify(m.cpu)}; ms per login (user, kernel) ${JSON.stringify(msPerLogin)}; ${m.stealPercent} % stolen; ${m.load}\n`,
      );
    }
    byRound.push(round);
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  const logins = {} as Record<
    Path,
    LoginRate & {
      cpu: Record<string, number>;
      cpuSecondsPer1000: number;
      /** The whole machine's busy CPU (softirq included) per 1,000, and its idle share. */
      machineCpuSecondsPer1000: number;
      machineIdlePercent: number;
      /** Store connections our store handed back to the MMP (its next logins' instead of a connect). */
      storeHandbacks: number;
      msPerLogin: Record<string, { user: number; system: number }>;
      load: string;
      stealPercent: number;
      lagMs: unknown;
    }
  >;
  // The rounds together: sessions over seconds, CPU over sessions; latencies and lags as medians.
  for (const path of paths) {
    const ms = byRound.map((round) => round[path]);
    const sessions = sum(ms.map((m) => m.result.sessions));
    const seconds = sum(ms.map((m) => m.result.sessions / Math.max(1e-9, m.result.perSecond)));
    const split = Object.fromEntries(
      Object.keys(ms[0]!.split).map((k) => [
        k,
        {
          user: sum(ms.map((m) => m.split[k as keyof Measured['split']].user)),
          system: sum(ms.map((m) => m.split[k as keyof Measured['split']].system)),
        },
      ]),
    );
    const cpu = Object.fromEntries(
      Object.keys(ms[0]!.cpu).map((k) => [k, sum(ms.map((m) => m.cpu[k as keyof Measured['cpu']]))]),
    ) as Measured['cpu'];
    logins[path] = {
      sessions,
      errors: sum(ms.map((m) => m.result.errors)),
      perSecond: sessions / seconds,
      greetingMs: {
        p50: median(ms.map((m) => m.result.greetingMs.p50)),
        p99: median(ms.map((m) => m.result.greetingMs.p99)),
      },
      cpu,
      cpuSecondsPer1000: (pathCpu(path, cpu) * 1000) / Math.max(1, sessions),
      machineCpuSecondsPer1000: (sum(ms.map((m) => m.machine.busySeconds)) * 1000) / Math.max(1, sessions),
      machineIdlePercent: median(ms.map((m) => m.machine.idlePercent)),
      storeHandbacks: sum(ms.map((m) => m.handbacks)),
      msPerLogin: perOperationMs(path, split, sessions),
      load: ms[0]!.load,
      stealPercent: Math.max(...ms.map((m) => m.stealPercent)),
      lagMs: ROUNDS > 1 ? ms.map((m) => m.lagMs) : ms[0]!.lagMs,
    };
  }
  const roundRatios = byRound.map((round) => round.mmp.result.perSecond / round.nginx.result.perSecond);
  memory.mmpAfterLogins = await mmpMemory(mmp.process.pid, config.common.httpPort);
  const throughput = {} as Record<
    Path,
    {
      MBps: number;
      cpu: Record<string, number>;
      cpuSecondsPerGiB: number;
      load: string;
      stealPercent: number;
      lagMs: unknown;
    }
  >;
  const fetches = Number(values.fetches);
  if (values['bulk-pinned']) {
    for (const pid of [pids.store, process.pid]) pinTree(pid, '0');
    for (const pid of [pids.mmp, pids.nginx]) pinTree(pid, '1');
  }
  // In rounds too, each path's turn beside the others': one phase is under a second, and the
  // machine's drift from one minute to the next is as large as what the splice costs.
  type MeasuredBulk = Awaited<ReturnType<typeof measured<number>>>;
  const bulkByRound: Record<Path, MeasuredBulk>[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const round = {} as Record<Path, MeasuredBulk>;
    for (const path of paths) {
      const bulkUser = path === 'direct' ? store.direct(BULK) : BULK;
      const m = await measured(() => fetchThroughput(targets[path], bulkUser, fetches, BULK_BYTES));
      round[path] = m;
      const cpuSecondsPerGiB = pathCpu(path, m.cpu) / ((fetches * BULK_BYTES) / 2 ** 30);
      process.stdout.write(
        `${ROUNDS > 1 ? `round ${r + 1}, ` : ''}${path}: ${m.result.toFixed(0)} MB/s bulk FETCH, ${cpuSecondsPerGiB.toFixed(2)} CPU s per GiB, lag ${JSON.stringify(m.lagMs)}; ${m.stealPercent} % stolen; ${m.load}\n`,
      );
    }
    bulkByRound.push(round);
  }
  // The rounds together: bytes over seconds, CPU over bytes.
  for (const path of paths) {
    const ms = bulkByRound.map((round) => round[path]);
    const megabytes = (ms.length * fetches * BULK_BYTES) / 1e6;
    const cpu = Object.fromEntries(
      Object.keys(ms[0]!.cpu).map((k) => [k, sum(ms.map((m) => m.cpu[k as keyof MeasuredBulk['cpu']]))]),
    ) as MeasuredBulk['cpu'];
    throughput[path] = {
      MBps: megabytes / sum(ms.map((m) => megabytes / ms.length / m.result)),
      cpu,
      cpuSecondsPerGiB: pathCpu(path, cpu) / ((megabytes * 1e6) / 2 ** 30),
      load: ms[0]!.load,
      stealPercent: Math.max(...ms.map((m) => m.stealPercent)),
      lagMs: ROUNDS > 1 ? ms.map((m) => m.lagMs) : ms[0]!.lagMs,
    };
  }
  const bulkRoundRatios = bulkByRound.map((round) => round.mmp.result / round.direct.result);
  if (values['bulk-pinned'])
    for (const pid of [pids.store, process.pid, pids.mmp, pids.nginx]) pinTree(pid, '0,1');
  memory.mmpAfterBulk = await mmpMemory(mmp.process.pid, config.common.httpPort);
  const snapshots: string[] = [];
  /** Asks the MMP for a heap snapshot and waits until its file is written (its size stays put). */
  const heapSnapshot = async (label: string) => {
    const folder = values['heap-snapshot'];
    if (!folder) return;
    const list = () => readdirSync(folder).filter((f) => f.endsWith('.heapsnapshot'));
    const before = new Set(list());
    process.kill(mmp.process.pid, 'SIGUSR2');
    let lastSize = -1;
    const file = await waitFor(
      `the MMP's heap snapshot (${label})`,
      () => {
        const made = list().find((f) => !before.has(f));
        if (!made) return undefined;
        const size = statSync(join(folder, made)).size;
        const done = size > 0 && size === lastSize;
        lastSize = size;
        return done ? made : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    snapshots.push(`${label}: ${join(folder, file)}`);
    process.stdout.write(`heap snapshot ${label}: ${join(folder, file)}\n`);
  };
  if (values['heap-snapshot']) mkdirSync(values['heap-snapshot'], { recursive: true });
  await heapSnapshot('after load');
  // Memory of idle sessions: RSS of the proxy's processes before and with IDLE sessions open, as
  // many as the proxy's descriptors allow (two per session).
  const idle: Record<
    string,
    {
      sessions: number;
      baseMiB: number;
      withSessionsMiB: number;
      KiBPerSession: number;
      settledMiB: number;
      load: string;
    }
  > = {};
  const SETTLE_SECONDS = Number(values['idle-settle']);
  for (const [name, pid, port] of [
    ['mmp', mmp.process.pid, targets.mmp],
    ['nginx', nginx.process.pid, targets.nginx],
  ] as const) {
    const load = uptime();
    const wanted = Math.min(Number(values.idle), Math.floor((openFileLimit(pid) - 64) / 2));
    const baseMiB = treeRssMiB(pid);
    const sessions = await idleSessions(port, IDLE_USERS, wanted);
    await new Promise((r) => setTimeout(r, 1000));
    const withSessionsMiB = treeRssMiB(pid);
    if (name === 'mmp') await heapSnapshot(`with ${sessions.opened} idle sessions`);
    const snapshot = async () =>
      name === 'mmp' ? await mmpMemory(pid, config.common.httpPort) : treeMemoryMap(pid);
    memory[`${name}WithSessions`] = await snapshot();
    // The same sessions after they have sat idle a while longer (V8's memory reducer runs a few
    // seconds after the allocation rate drops); the figure above stays the one compared.
    await new Promise((r) => setTimeout(r, SETTLE_SECONDS * 1000));
    const settledMiB = treeRssMiB(pid);
    memory[`${name}Settled`] = await snapshot();
    sessions.close();
    idle[name] = {
      sessions: sessions.opened,
      baseMiB,
      withSessionsMiB,
      KiBPerSession: ((withSessionsMiB - baseMiB) * 1024) / Math.max(1, sessions.opened),
      settledMiB,
      load,
    };
    process.stdout.write(
      `${name}: ${sessions.opened} idle sessions, ${baseMiB.toFixed(1)} → ${withSessionsMiB.toFixed(1)} MiB (${idle[name].KiBPerSession.toFixed(1)} KiB each), ${settledMiB.toFixed(1)} MiB ${SETTLE_SECONDS} s later; ${load}\n`,
    );
    // Sessions closed: wait until the store has let them go before the next proxy's turn.
    await new Promise((r) => setTimeout(r, 5000));
  }
  const result = {
    when: new Date().toISOString(),
    store: values.store,
    command: `node bench/mmp/run.ts --store ${values.store} --seconds ${SECONDS} --concurrency ${CONCURRENCY} --bulk-mb ${values['bulk-mb']} --fetches ${values.fetches} --idle ${values.idle}${ROUNDS > 1 ? ` --rounds ${ROUNDS}` : ''}${WARMUP_SECONDS !== 2 ? ` --warmup ${WARMUP_SECONDS}` : ''}${values['bulk-pinned'] ? ' --bulk-pinned' : ''} --mmp-env ${values['mmp-env']} --mmp-code ${values['mmp-code']} --idle-settle ${values['idle-settle']}`,
    mmpEnv: MMP_ENV,
    mmpCode: values['mmp-code'],
    mmpStartMiB,
    ...(snapshots.length > 0 ? { heapSnapshots: snapshots } : {}),
    logins,
    throughput,
    idle,
    memory,
    ratios: {
      loginsMmpOverNginx: logins.mmp.perSecond / logins.nginx.perSecond,
      ...(ROUNDS > 1 ? { loginsMmpOverNginxByRound: roundRatios } : {}),
      loginsMmpOverDirect: logins.mmp.perSecond / logins.direct.perSecond,
      throughputMmpOverDirect: throughput.mmp.MBps / throughput.direct.MBps,
      ...(ROUNDS > 1 ? { throughputMmpOverDirectByRound: bulkRoundRatios } : {}),
      throughputNginxOverDirect: throughput.nginx.MBps / throughput.direct.MBps,
      idleMemoryMmpOverNginx: idle.mmp!.withSessionsMiB / idle.nginx!.withSessionsMiB,
      idleMemorySettledMmpOverNginx: idle.mmp!.settledMiB / idle.nginx!.settledMiB,
      // Load-independent: CPU per unit of work, the proxy path's against the other's.
      cpuPerLoginMmpOverNginx: logins.mmp.cpuSecondsPer1000 / logins.nginx.cpuSecondsPer1000,
      cpuPerLoginMmpOverDirect: logins.mmp.cpuSecondsPer1000 / logins.direct.cpuSecondsPer1000,
      // The whole machine's, the kernel's softirq work (loopback TCP's receiving side, charged to
      // no process) and the load generator included.
      machineCpuPerLoginMmpOverNginx:
        logins.mmp.machineCpuSecondsPer1000 / logins.nginx.machineCpuSecondsPer1000,
      // The proxy tier alone, the store left out: the MMP (and the directory it asks) against
      // nginx with its auth_http endpoint and the directory that one asks.
      proxyCpuPerLoginMmpOverNginx: proxyMsPerLogin(logins.mmp) / proxyMsPerLogin(logins.nginx),
      cpuPerGiBMmpOverDirect: throughput.mmp.cpuSecondsPerGiB / throughput.direct.cpuSecondsPerGiB,
      cpuPerGiBNginxOverDirect: throughput.nginx.cpuSecondsPerGiB / throughput.direct.cpuSecondsPerGiB,
    },
  };
  mkdirSync('bench/mmp/results', { recursive: true });
  writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result.ratios, null, 2)}\n`);
} finally {
  await stopAll();
  dir.remove();
}
