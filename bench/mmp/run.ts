// Benchmark: IMAP through the MMP, directly to the store, and through nginx's mail proxy with an
// auth_http endpoint that binds in the same slapd, in one run on this machine. The store is Dovecot
// in its high-performance login mode. The MMP runs on the config the operator renders for
// examples/siroe.yaml, localized to loopback, with logins in clear allowed (as nginx and the direct
// path are measured in clear: TLS would measure OpenSSL, the same for all three).
//
//   logins/s   20 workers, each: connect, LOGIN, SELECT, FETCH 1 (BODY[], 1 KiB), LOGOUT
//   MB/s       one session fetching a large message again and again (the splice's cost)
//
// Usage: node bench/mmp/run.ts [--seconds 10] [--concurrency 20] [--bulk-mb 8] [--fetches 20]
//        [--idle 1000] [--cpu-prof DIR]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { directoryConfig } from '../../testing/peers/directory-fixture.ts';
import { startDovecot } from '../../testing/peers/dovecot.ts';
import { startSlapd } from '../../testing/peers/slapd.ts';
import { makeSelfSignedCertificate } from '../../testing/peers/tls-fixture.ts';
import { freePort } from '../../testing/support/free-ports.ts';
import { ManagedProcess } from '../../testing/support/processes.ts';
import { makeTempDir } from '../../testing/support/temp-dir.ts';
import { waitForPort } from '../../testing/support/wait.ts';
import { startMmpProcess } from '../../images/mmp/testing/mmp-process.ts';
import { localize, renderedMmpConfig } from '../../images/mmp/testing/rendered-config.ts';
import { fetchThroughput, idleSessions, loginRate } from './imap-load.ts';
import { treeCpuSeconds, treeRssMiB } from './rss.ts';
import { startNginxMail } from './nginx.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '20' },
    'bulk-mb': { type: 'string', default: '8' },
    fetches: { type: 'string', default: '20' },
    idle: { type: 'string', default: '1000' },
    out: { type: 'string', default: 'bench/mmp/results/latest.json' },
    /** A folder for the MMP's V8 CPU profile (--cpu-prof), written when it exits. */
    'cpu-prof': { type: 'string' },
  },
});
const SECONDS = Number(values.seconds);
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

const dir = makeTempDir('mmp-bench');
const stops: (() => Promise<void>)[] = [];
try {
  const tls = await makeSelfSignedCertificate(dir.path);
  const slapd = await startSlapd(
    join(dir.path, 'slapd'),
    [...USERS, BULK].map((u) => ({
      uid: u.uid,
      password: u.password,
      mail: u.name,
      mailHost: 'siroe-store-0',
    })),
  );
  stops.push(() => slapd.stop());
  const store = await startDovecot(join(dir.path, 'store'), {
    master: { name: 'mmp', password: SECRET },
    highPerformanceLogin: true,
    users: [
      ...USERS.map((u) => ({ ...u, inbox: ['a message'], bodyBytes: 1024 })),
      { ...BULK, inbox: ['a large message'], bodyBytes: BULK_BYTES },
    ],
  });
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
    proxySecret: SECRET,
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
    values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : [],
  );
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
    ],
    { logFile: join(nginxDir, 'auth-http.log') },
  );
  stops.push(() => auth.stop());
  await waitForPort(authPort);
  const nginx = await startNginxMail(nginxDir, authPort, ['IMAP4rev1', 'IDLE', 'LITERAL+', 'SASL-IR']);
  stops.push(() => nginx.stop());

  const targets = { direct: store.imapPort, mmp: mmp.ports.imap!, nginx: nginx.port };
  const logins: Record<string, { sessions: number; errors: number; perSecond: number }> = {};
  const throughput: Record<string, number> = {};
  // A short warm-up per target (JIT, Dovecot's login processes, the MMP's login cache).
  for (const [name, port] of Object.entries(targets))
    await loginRate(port, USERS, CONCURRENCY, 2).then(() => name);
  // CPU seconds each process used during each path's run (where the time goes).
  const cpu: Record<string, Record<string, number>> = {};
  const watched = {
    dovecot: store.process.pid,
    mmp: mmp.process.pid,
    nginx: nginx.process.pid,
    authHttp: auth.pid,
    slapd: slapd.process.pid,
  };
  for (const [name, port] of Object.entries(targets)) {
    const before = Object.fromEntries(Object.entries(watched).map(([k, pid]) => [k, treeCpuSeconds(pid)]));
    logins[name] = await loginRate(port, USERS, CONCURRENCY, SECONDS);
    cpu[name] = Object.fromEntries(
      Object.entries(watched).map(([k, pid]) => [k, treeCpuSeconds(pid) - before[k]!]),
    );
    process.stdout.write(
      `${name}: ${logins[name].perSecond.toFixed(0)} logins/s (${logins[name].errors} errors); CPU s ${JSON.stringify(cpu[name])}\n`,
    );
  }
  for (const [name, port] of Object.entries(targets)) {
    throughput[name] = await fetchThroughput(port, BULK, Number(values.fetches), BULK_BYTES);
    process.stdout.write(`${name}: ${throughput[name].toFixed(0)} MB/s bulk FETCH\n`);
  }
  // Memory of idle sessions: RSS of the proxy's processes before and with IDLE sessions open.
  const idle: Record<
    string,
    { sessions: number; baseMiB: number; withSessionsMiB: number; KiBPerSession: number }
  > = {};
  for (const [name, pid, port] of [
    ['mmp', mmp.process.pid, targets.mmp],
    ['nginx', nginx.process.pid, targets.nginx],
  ] as const) {
    const baseMiB = treeRssMiB(pid);
    const sessions = await idleSessions(port, USERS, Number(values.idle));
    await new Promise((r) => setTimeout(r, 1000));
    const withSessionsMiB = treeRssMiB(pid);
    sessions.close();
    idle[name] = {
      sessions: sessions.opened,
      baseMiB,
      withSessionsMiB,
      KiBPerSession: ((withSessionsMiB - baseMiB) * 1024) / Math.max(1, sessions.opened),
    };
    process.stdout.write(
      `${name}: ${sessions.opened} idle sessions, ${withSessionsMiB.toFixed(1)} MiB (${idle[name].KiBPerSession.toFixed(1)} KiB each)\n`,
    );
    await new Promise((r) => setTimeout(r, 2000));
  }
  const result = {
    when: new Date().toISOString(),
    command: `node bench/mmp/run.ts --seconds ${SECONDS} --concurrency ${CONCURRENCY} --bulk-mb ${values['bulk-mb']} --fetches ${values.fetches}`,
    logins,
    cpuSecondsDuringLogins: cpu,
    throughputMBps: throughput,
    idle,
    ratios: {
      loginsMmpOverNginx: logins.mmp!.perSecond / logins.nginx!.perSecond,
      loginsMmpOverDirect: logins.mmp!.perSecond / logins.direct!.perSecond,
      throughputMmpOverDirect: throughput.mmp! / throughput.direct!,
      throughputNginxOverDirect: throughput.nginx! / throughput.direct!,
      idleMemoryMmpOverNginx: idle.mmp!.withSessionsMiB / idle.nginx!.withSessionsMiB,
    },
  };
  mkdirSync('bench/mmp/results', { recursive: true });
  writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result.ratios, null, 2)}\n`);
} finally {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  dir.remove();
}
