// Benchmark: LMTP deliveries per second into the store, against Dovecot 2.3 (Debian) in one run on
// this machine: smtp-source -L (Postfix's load generator), 1 KiB messages over 10 connections, to
// one user. Every system fsyncs each message before its 250: ours always (file, directory, index
// commit), Dovecot with its default mail_fsync = optimized. Dovecot runs twice: with its default
// process settings and in its high-performance mode (bench/store/dovecot.ts). Rounds interleave the
// systems so that the machine's load falls on all of them alike.
//
// Usage: node bench/store/run.ts [--messages 5000] [--sessions 10] [--size 1024] [--rounds 3] [--warmup 500] [--modes new,reuse]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { run } from '../../testing/support/processes.ts';
import { makeTempDir } from '../../testing/support/temp-dir.ts';
import { startStoreProcess } from '../../images/store/testing/store-process.ts';
import { startDovecot } from './dovecot.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '5000' },
    sessions: { type: 'string', default: '10' },
    size: { type: 'string', default: '1024' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '500' },
    modes: { type: 'string', default: 'new,reuse' },
    out: { type: 'string', default: 'bench/store/results/latest.json' },
  },
});
const MESSAGES = Number(values.messages);
const SESSIONS = Number(values.sessions);
const SIZE = Number(values.size);
const ROUNDS = Number(values.rounds);
const MODES = values.modes.split(',') as ('new' | 'reuse')[];
const WARMUP = Number(values.warmup);

type System = 'mtopo' | 'dovecot-default' | 'dovecot-high-performance';

interface Result {
  system: System;
  mode: 'new' | 'reuse';
  round: number;
  seconds: number;
  rate: number;
  load: number;
}

async function smtpSource(
  port: number,
  user: string,
  mode: 'new' | 'reuse',
  messages = MESSAGES,
): Promise<number> {
  const args = [
    '-L',
    ...(mode === 'reuse' ? ['-d'] : []),
    '-s',
    String(SESSIONS),
    '-m',
    String(messages),
    '-l',
    String(SIZE),
  ];
  const started = process.hrtime.bigint();
  const result = await run(
    'smtp-source',
    [...args, '-f', 'bench@remote.example', '-t', user, `127.0.0.1:${port}`],
    {
      timeoutMs: 30 * 60_000,
    },
  );
  if (result.code !== 0) throw new Error(`smtp-source failed: ${result.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function main(): Promise<void> {
  const temp = makeTempDir('bench-store');
  const results: Result[] = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const mode of MODES) {
        for (const system of ['mtopo', 'dovecot-default', 'dovecot-high-performance'] as System[]) {
          const dir = join(temp.path, `${system}-${mode}-${round}`);
          const user = `bench${round}@siroe.example`;
          let port: number;
          let stop: () => Promise<void>;
          if (system === 'mtopo') {
            const store = await startStoreProcess(dir);
            port = store.ports.lmtp;
            stop = () => store.stop();
          } else {
            const dovecot = await startDovecot(
              dir,
              system === 'dovecot-default' ? 'default' : 'high-performance',
            );
            port = dovecot.lmtpPort;
            stop = () => dovecot.stop();
          }
          try {
            // A warm-up to another user first: both systems have started their processes, and ours
            // has compiled its hot paths, before the clock runs.
            await smtpSource(port, `warmup@siroe.example`, mode, WARMUP);
            const load = loadavg()[0]!;
            const seconds = await smtpSource(port, user, mode);
            const result = { system, mode, round, seconds, rate: MESSAGES / seconds, load };
            results.push(result);
            process.stdout.write(
              `${system.padEnd(26)} ${mode.padEnd(6)} round ${round}: ${result.rate.toFixed(0)} msg/s (load ${load.toFixed(1)})\n`,
            );
          } finally {
            await stop();
          }
        }
      }
    }
  } finally {
    temp.remove();
  }
  // The median round: one lucky or unlucky round on a shared machine does not decide.
  const best = (system: System, mode: string) => {
    const rates = results
      .filter((r) => r.system === system && r.mode === mode)
      .map((r) => r.rate)
      .sort((a, b) => a - b);
    return rates[Math.floor((rates.length - 1) / 2)]!;
  };
  const summary = MODES.map((mode) => ({
    mode,
    mtopo: best('mtopo', mode),
    dovecotDefault: best('dovecot-default', mode),
    dovecotHighPerformance: best('dovecot-high-performance', mode),
    ratioToDefault: best('mtopo', mode) / best('dovecot-default', mode),
    ratioToHighPerformance: best('mtopo', mode) / best('dovecot-high-performance', mode),
  }));
  for (const s of summary)
    process.stdout.write(
      `${s.mode}: mtopo ${s.mtopo.toFixed(0)} msg/s, Dovecot ${s.dovecotDefault.toFixed(0)} (default) / ${s.dovecotHighPerformance.toFixed(0)} (high-performance): ${s.ratioToDefault.toFixed(2)}x / ${s.ratioToHighPerformance.toFixed(2)}x\n`,
    );
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(
    values.out,
    JSON.stringify(
      {
        when: new Date().toISOString(),
        messages: MESSAGES,
        sessions: SESSIONS,
        size: SIZE,
        results,
        summary,
      },
      null,
      2,
    ) + '\n',
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`bench-store: ${(error as Error).stack}\n`);
  process.exit(1);
});
