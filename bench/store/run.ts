// The store's benchmark: one command, our figures beside Dovecot 2.3's (Debian) in the same run, on
// the same machine and the same data, Dovecot with its default process settings and in its
// high-performance mode (bench/store/systems.ts). Each section starts every system afresh in turn,
// round after round, so that the machine's load falls on all of them alike.
//
//   lmtp    deliveries/s: smtp-source -L, 1 KiB messages over 10 connections to one user, a
//           connection per message and reused (-d); every system fsyncs before its 250
//   mixed   IMAP commands/s from our driver (bench/store/imap-load.ts), short and persistent
//           sessions, 10 clients each on its own user with a 200-message INBOX
//   fetch   MB/s of FETCH BODY.PEEK[] of every message of a 1 GiB mailbox (1 MiB messages), twice
//   idle    RSS of 10,000 sessions in IDLE: ours against the sum over Dovecot's processes
//
// Beside each rate: CPU seconds per 1,000 operations of the system's processes (/proc/PID/stat,
// bench/store/proc-stat.ts), which a busy machine disturbs far less than a rate, and `uptime`.
//
// Usage: node bench/store/run.ts [--sections lmtp,mixed,fetch,idle] [--rounds 3] [--seconds 20]
//        [--fetch-mb 1024] [--idle 10000] [--idle-default 2000] [--messages 5000] [--out FILE]
//        [--systems mtopo,dovecot-default,dovecot-high-performance] [--mixed-cases short,persistent]
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { stealMeter } from '../../testing/support/machine-cpu.ts';
import { cleanUpOnInterrupt, run } from '../../testing/support/processes.ts';
import { makeTempDir } from '../../testing/support/temp-dir.ts';
import { fetchAll, fill, idleSessions, mixed } from './imap-load.ts';
import { availableMiB, cpuTimes, rssMiB } from './proc-stat.ts';
import { startSystem, SYSTEMS, type RunningSystem, type SystemName } from './systems.ts';

const { values } = parseArgs({
  options: {
    sections: { type: 'string', default: 'lmtp,mixed,fetch,idle' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '20' },
    messages: { type: 'string', default: '5000' },
    'mixed-messages': { type: 'string', default: '200' },
    /** Which mixed cases (a profile of one: `--mixed-cases persistent`). */
    'mixed-cases': { type: 'string', default: 'short,persistent' },
    'fetch-mb': { type: 'string', default: '1024' },
    idle: { type: 'string', default: '10000' },
    /** Dovecot's default mode forks a process per IDLE session: fewer, so the machine keeps its pids. */
    'idle-default': { type: 'string', default: '2000' },
    systems: { type: 'string', default: SYSTEMS.join(',') },
    out: { type: 'string', default: 'bench/store/results/latest.json' },
  },
});
const SECTIONS = values.sections.split(',');
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.seconds);
const RUN_SYSTEMS = values.systems.split(',') as SystemName[];
const MIXED_MESSAGES = Number(values['mixed-messages']);
const MIXED_USERS = Array.from({ length: 10 }, (_, i) => `mixed${i}@siroe.example`);
/** Keep this much memory free for the other sessions on the machine. */
const MIN_AVAILABLE_MIB = 3072;

interface Row {
  section: string;
  case: string;
  system: SystemName;
  round: number;
  /** The rate (deliveries/s, commands/s, MB/s) or, for idle, MiB. */
  value: number;
  unit: string;
  operations: number;
  cpuSeconds: number;
  cpuPer1000: number;
  cpuUserSeconds?: number;
  cpuSystemSeconds?: number;
  /** Of the machine's CPU time over the measurement, the share the hypervisor gave elsewhere. */
  stealPercent?: number;
  uptime: string;
  extra?: Record<string, number>;
}

const rows: Row[] = [];
const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();

function record(row: Omit<Row, 'cpuPer1000' | 'uptime'>, load: string): void {
  // The split of the measurement just made (every record follows its measured()).
  const full = {
    ...row,
    ...lastSplit,
    cpuPer1000: (row.cpuSeconds / Math.max(1, row.operations)) * 1000,
    uptime: load,
  };
  lastSplit = undefined;
  rows.push(full);
  process.stdout.write(
    `${row.section.padEnd(6)} ${row.case.padEnd(10)} ${row.system.padEnd(25)} r${row.round}: ${row.value.toFixed(1)} ${row.unit}` +
      `, ${full.cpuPer1000.toFixed(3)} CPU s/1000 ops (user ${full.cpuUserSeconds?.toFixed(2)} s, sys ${full.cpuSystemSeconds?.toFixed(2)} s; ${full.stealPercent ?? '?'} % stolen; ${load.replace(/^.*load/, 'load')})\n`,
  );
}

/** Runs `work` and measures the system's CPU over it. */
async function measured<T>(
  system: RunningSystem,
  work: () => Promise<T>,
): Promise<{ result: T; cpu: number }> {
  const before = cpuTimes(system.pids());
  const stolen = stealMeter();
  const result = await work();
  const after = cpuTimes(system.pids());
  // Where the CPU went: user space (ours: JavaScript, GC, zlib, TLS) or the kernel (copies, syscalls).
  lastSplit = {
    cpuUserSeconds: after.user - before.user,
    cpuSystemSeconds: after.system - before.system,
    stealPercent: stolen(),
  };
  return { result, cpu: lastSplit.cpuUserSeconds + lastSplit.cpuSystemSeconds };
}
let lastSplit: { cpuUserSeconds: number; cpuSystemSeconds: number; stealPercent: number } | undefined;

async function smtpSource(port: number, user: string, reuse: boolean, messages: number): Promise<number> {
  const args = ['-L', ...(reuse ? ['-d'] : []), '-s', '10', '-m', String(messages), '-l', '1024'];
  const started = performance.now();
  const result = await run(
    'smtp-source',
    [...args, '-f', 'bench@remote.example', '-t', user, `127.0.0.1:${port}`],
    {
      timeoutMs: 30 * 60_000,
    },
  );
  if (result.code !== 0) throw new Error(`smtp-source failed: ${result.stderr}`);
  return (performance.now() - started) / 1000;
}

const sections: Record<string, (system: RunningSystem, round: number) => Promise<void>> = {
  async lmtp(system, round) {
    const messages = Number(values.messages);
    for (const reuse of [false, true]) {
      // A warm-up to another user first: every system has started its processes, and ours has
      // compiled its hot paths, before the clock runs.
      await smtpSource(system.lmtpPort, `warmup${reuse ? 'r' : 'n'}@siroe.example`, reuse, 500);
      const load = uptime();
      const { result: seconds, cpu } = await measured(system, () =>
        smtpSource(system.lmtpPort, `lmtp${reuse ? 'r' : 'n'}@siroe.example`, reuse, messages),
      );
      record(
        {
          section: 'lmtp',
          case: reuse ? 'reused' : 'per-msg',
          system: system.name,
          round,
          value: messages / seconds,
          unit: 'msg/s',
          operations: messages,
          cpuSeconds: cpu,
        },
        load,
      );
    }
  },

  async mixed(system, round) {
    await Promise.all(MIXED_USERS.map((u) => fill(system, u, MIXED_MESSAGES, 4096)));
    // A short warm-up: Dovecot builds its indexes at the first SELECT, we compile.
    await mixed(system, MIXED_USERS, {
      workers: 10,
      seconds: 3,
      short: false,
      messages: MIXED_MESSAGES,
      bodyBytes: 2048,
    });
    const cases = values['mixed-cases'].split(',');
    for (const short of [true, false].filter((s) => cases.includes(s ? 'short' : 'persistent'))) {
      const load = uptime();
      const { result, cpu } = await measured(system, () =>
        mixed(system, MIXED_USERS, {
          workers: 10,
          seconds: SECONDS,
          short,
          messages: MIXED_MESSAGES,
          bodyBytes: 2048,
        }),
      );
      record(
        {
          section: 'mixed',
          case: short ? 'short' : 'persistent',
          system: system.name,
          round,
          value: result.perSecond,
          unit: 'cmd/s',
          operations: result.commands,
          cpuSeconds: cpu,
          extra: { errors: result.errors },
        },
        load,
      );
    }
  },

  async fetch(system, round) {
    const count = Number(values['fetch-mb']);
    await fill(system, 'bulk@siroe.example', count, 1024 * 1024);
    for (const pass of [1, 2]) {
      const load = uptime();
      const { result, cpu } = await measured(system, () => fetchAll(system, 'bulk@siroe.example', count));
      record(
        {
          section: 'fetch',
          case: `pass ${pass}`,
          system: system.name,
          round,
          value: result.mbPerSecond,
          unit: 'MB/s',
          operations: count,
          cpuSeconds: cpu,
          extra: { bytes: result.bytes, seconds: result.seconds },
        },
        load,
      );
    }
  },

  async idle(system, round) {
    const count = Number(system.name === 'dovecot-default' ? values['idle-default'] : values.idle);
    // 40 sessions per user: under the store's limit of 50 per user, and alike for Dovecot.
    const users = Array.from({ length: Math.ceil(count / 40) }, (_, i) => `idle${i}@siroe.example`);
    const before = rssMiB(system.pids());
    const load = uptime();
    const { result: held, cpu } = await measured(system, () =>
      idleSessions(system, users, count, () => availableMiB() < MIN_AVAILABLE_MIB),
    );
    try {
      // Let what the sessions allocated settle (Dovecot's processes finish starting).
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const after = rssMiB(system.pids());
      record(
        {
          section: 'idle',
          case: `${held.opened}`,
          system: system.name,
          round,
          value: after,
          unit: 'MiB',
          operations: held.opened,
          cpuSeconds: cpu,
          extra: {
            rssBeforeMiB: before,
            kibPerSession: ((after - before) * 1024) / Math.max(1, held.opened),
            failed: held.failed,
            processes: system.pids().length,
          },
        },
        load,
      );
    } finally {
      held.close();
    }
  },
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
};

async function main(): Promise<void> {
  const temp = makeTempDir('bench-store');
  // The system running now is stopped, by its PIDs, also on Ctrl-C.
  let running: RunningSystem | undefined;
  cleanUpOnInterrupt(async () => {
    await running?.stop().catch(() => undefined);
    temp.remove();
  });
  try {
    for (const section of SECTIONS) {
      const runSection = sections[section];
      if (!runSection) throw new Error(`unknown section ${section}`);
      const rounds = section === 'lmtp' || section === 'mixed' ? ROUNDS : 1;
      for (let round = 1; round <= rounds; round++) {
        for (const name of RUN_SYSTEMS) {
          const dir = join(temp.path, `${section}-${name}-${round}`);
          const system = await startSystem(name, dir);
          running = system;
          try {
            await runSection(system, round);
          } finally {
            running = undefined;
            await system.stop();
          }
          rmSync(dir, { recursive: true, force: true }); // a 1 GiB mailbox per system is enough at once
        }
      }
    }
  } finally {
    temp.remove();
  }
  // Medians over rounds (fetch: the second, warm pass).
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    if (row.section === 'fetch' && row.case !== 'pass 2') continue;
    const key = `${row.section} ${row.section === 'idle' ? '' : row.case}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  const summary = [...groups].map(([key, group]) => {
    const of = (system: SystemName) => group.filter((r) => r.system === system);
    const value = (system: SystemName) => median(of(system).map((r) => r.value));
    const cpu = (system: SystemName) => median(of(system).map((r) => r.cpuPer1000));
    const entry: Record<string, unknown> = { case: key.trim() };
    for (const system of RUN_SYSTEMS) entry[system] = { value: value(system), cpuPer1000: cpu(system) };
    if (RUN_SYSTEMS.includes('mtopo'))
      for (const system of RUN_SYSTEMS.filter((s) => s !== 'mtopo')) {
        entry[`ratio to ${system}`] = value('mtopo') / value(system);
        entry[`cpu ratio to ${system}`] = cpu('mtopo') / cpu(system);
      }
    return entry;
  });
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(
    values.out,
    `${JSON.stringify({ when: new Date().toISOString(), args: values, rows, summary }, null, 2)}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`bench-store: ${(error as Error).stack}\n`);
  process.exit(1);
});
