// Benchmark: the inbound relay (fsync on, as always) against Postfix configured as the same relay,
// in one run on this machine. smtp-source (Postfix's load generator) sends to each; both deliver over
// LMTP to one smtp-sink playing the store; our relay checks each recipient in slapd (cached), Postfix
// relays the domain without a directory.
//
// Reported per system and connection mode:
//   accept rate   messages / time smtp-source took (every message fsynced before its 250)
//   e2e rate      messages / time from the first message sent to the last one delivered
//   p50/p99       time from acceptance to delivery at the store, from each relay's own log
//                 (ours: "delivered" lines, delayMs; Postfix: status=sent lines, delay=)
//
// Usage: node bench/mta/run.ts [--messages 10000] [--sessions 10] [--size 1024] [--rounds 2]
import { closeSync, fstatSync, mkdirSync, openSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { directoryConfig, USERS } from '../../testing/peers/directory-fixture.ts';
import { freePort } from '../../testing/support/free-ports.ts';
import { startPostfix } from '../../testing/peers/postfix.ts';
import { cleanUpOnInterrupt, run } from '../../testing/support/processes.ts';
import { startSlapd } from '../../testing/peers/slapd.ts';
import { startSmtpSink } from '../../testing/peers/smtp-sink.ts';
import { makeTempDir } from '../../testing/support/temp-dir.ts';
import { startMtaProcess } from '../../images/mta/testing/mta-process.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '10000' },
    sessions: { type: 'string', default: '10' },
    size: { type: 'string', default: '1024' },
    rounds: { type: 'string', default: '2' },
    modes: { type: 'string', default: 'reuse,new' },
    out: { type: 'string', default: 'bench/mta/results/latest.json' },
  },
});
const MESSAGES = Number(values.messages);
const SESSIONS = Number(values.sessions);
const SIZE = Number(values.size);
const ROUNDS = Number(values.rounds);
const MODES = values.modes.split(',') as ('reuse' | 'new')[];

interface Result {
  system: 'mtopo' | 'postfix';
  mode: 'reuse' | 'new';
  round: number;
  messages: number;
  acceptSeconds: number;
  endToEndSeconds: number;
  acceptRate: number;
  endToEndRate: number;
  delivered: number;
  p50Ms: number;
  p99Ms: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * Follows a log file as it grows, reading only what was appended since the last look: re-reading
 * a log of tens of thousands of lines every poll would take the CPU the relays are measured on.
 */
class LogTail {
  readonly #path: string;
  readonly #onLine: (line: string) => void;
  #offset = 0;
  #partial = '';

  constructor(path: string, onLine: (line: string) => void) {
    this.#path = path;
    this.#onLine = onLine;
  }

  poll(): void {
    let fd: number;
    try {
      fd = openSync(this.#path, 'r');
    } catch {
      return;
    }
    try {
      const size = fstatSync(fd).size;
      if (size <= this.#offset) return;
      const buffer = Buffer.alloc(size - this.#offset);
      readSync(fd, buffer, 0, buffer.length, this.#offset);
      this.#offset = size;
      const lines = (this.#partial + buffer.toString('utf8')).split('\n');
      this.#partial = lines.pop() ?? '';
      for (const line of lines) this.#onLine(line);
    } finally {
      closeSync(fd);
    }
  }
}

/** Delays (ms) of delivered messages by sender, as a relay's log says. */
type DelayBook = Map<string, number[]>;

/** Our relay's JSON log: "queued" lines name the sender, "delivered" lines the delay. */
function mtopoTail(path: string, book: DelayBook): LogTail {
  const senders = new Map<string, string>();
  return new LogTail(path, (line) => {
    if (line.includes('"msg":"queued"')) {
      const l = JSON.parse(line) as { queueId: string; from: string };
      senders.set(l.queueId, l.from);
    } else if (line.includes('"msg":"delivered"')) {
      const l = JSON.parse(line) as { queueId: string; delayMs: number };
      const sender = senders.get(l.queueId);
      if (sender === undefined) return;
      senders.delete(l.queueId);
      const list = book.get(sender) ?? [];
      list.push(l.delayMs);
      book.set(sender, list);
    }
  });
}

/** Postfix's maillog: qmgr's from= line names the sender, the status=sent line the delay. */
function postfixTail(path: string, book: DelayBook): LogTail {
  const senders = new Map<string, string>();
  return new LogTail(path, (line) => {
    const from = / ([0-9A-F]+): from=<([^>]*)>/.exec(line);
    if (from) {
      senders.set(from[1]!, from[2]!);
      return;
    }
    const sent = / ([0-9A-F]+): to=<[^>]*>.* delay=([\d.]+),.*status=sent/.exec(line);
    if (!sent) return;
    const sender = senders.get(sent[1]!);
    if (sender === undefined) return;
    const list = book.get(sender) ?? [];
    list.push(Number(sent[2]) * 1000);
    book.set(sender, list);
  });
}

async function measure(
  system: Result['system'],
  mode: Result['mode'],
  round: number,
  port: number,
  tail: LogTail,
  book: DelayBook,
): Promise<Result> {
  const sender = `${system}-${mode}-${round}-${Date.now()}@bench.example`;
  const delays = () => {
    tail.poll();
    return book.get(sender) ?? [];
  };
  const started = performance.now();
  const source = await run(
    'smtp-source',
    [
      ...(mode === 'reuse' ? ['-d'] : []),
      '-s',
      String(SESSIONS),
      '-m',
      String(MESSAGES),
      '-l',
      String(SIZE),
      '-f',
      sender,
      '-t',
      'alice@example.test',
      `127.0.0.1:${port}`,
    ],
    { timeoutMs: 600_000 },
  );
  if (source.code !== 0) throw new Error(`smtp-source failed: ${source.stderr}`);
  const accepted = performance.now();
  for (;;) {
    if (delays().length >= MESSAGES) break;
    if (performance.now() - accepted > 600_000)
      throw new Error(`${system} delivered ${delays().length} of ${MESSAGES}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const done = performance.now();
  const sorted = [...delays()].sort((a, b) => a - b);
  const acceptSeconds = (accepted - started) / 1000;
  const endToEndSeconds = (done - started) / 1000;
  return {
    system,
    mode,
    round,
    messages: MESSAGES,
    acceptSeconds,
    endToEndSeconds,
    acceptRate: MESSAGES / acceptSeconds,
    endToEndRate: MESSAGES / endToEndSeconds,
    delivered: sorted.length,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
  };
}

const temp = makeTempDir('bench');
const results: Result[] = [];
// Everything started here is stopped here, by its PID, also on Ctrl-C.
const stops: (() => Promise<void>)[] = [];
const stopAll = async () => {
  for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
};
cleanUpOnInterrupt(() => stopAll().then(() => temp.remove()));
try {
  const slapd = await startSlapd(join(temp.path, 'slapd'), USERS);
  stops.push(() => slapd.stop());
  const store = await startSmtpSink(join(temp.path, 'store'), { lmtp: true, dump: false });
  stops.push(() => store.stop());
  const mtaDir = join(temp.path, 'mta');
  mkdirSync(mtaDir, { recursive: true });
  const limits = { maxConnections: 2000, maxConnectionsPerClient: 1000 };
  const mta = await startMtaProcess({
    role: 'inbound',
    dir: mtaDir,
    overrides: {
      listeners: [
        {
          name: 'smtp',
          protocol: 'smtp',
          port: await freePort(),
          tls: 'starttls',
          proxyProtocol: 'none',
          ...limits,
        },
      ],
      directory: directoryConfig(slapd, mtaDir, { cacheTTLSeconds: 60 }),
      stores: { 'store-a': { host: '127.0.0.1', lmtpPort: store.port, imapPort: 1, pop3Port: 1 } },
      limits: {
        maxMessageBytes: 26_214_400,
        maxRecipients: 100,
        messagesPerMinutePerClient: 1_000_000,
        deliveryConcurrency: 20,
      },
    },
  });
  stops.push(() => mta.stop());
  const postfix = await startPostfix(join(temp.path, 'postfix'), {
    relayDomains: ['example.test'],
    nextHop: { host: '127.0.0.1', port: store.port },
    mainCf: {
      relay_transport: `lmtp:[127.0.0.1]:${store.port}`,
      smtpd_client_connection_count_limit: '0',
      smtpd_client_message_rate_limit: '0',
      smtpd_client_connection_rate_limit: '0',
    },
  });
  stops.push(() => postfix.stop());
  const warm = async () => {
    for (const [system, port] of [
      ['mtopo', mta.port],
      ['postfix', postfix.port],
    ] as const) {
      await run('smtp-source', [
        '-d',
        '-s',
        '5',
        '-m',
        '500',
        '-l',
        String(SIZE),
        '-f',
        `warmup-${system}@bench.example`,
        '-t',
        'alice@example.test',
        `127.0.0.1:${port}`,
      ]);
    }
    await new Promise((r) => setTimeout(r, 3000));
  };
  await warm();
  const mtopoBook: DelayBook = new Map();
  const postfixBook: DelayBook = new Map();
  const tails = {
    mtopo: mtopoTail(join(mtaDir, 'mta.log'), mtopoBook),
    postfix: postfixTail(join(temp.path, 'postfix', 'maillog'), postfixBook),
  };
  for (let round = 1; round <= ROUNDS; round++) {
    for (const mode of MODES) {
      results.push(await measure('mtopo', mode, round, mta.port, tails.mtopo, mtopoBook));
      process.stderr.write(`${JSON.stringify(results.at(-1))}\n`);
      results.push(await measure('postfix', mode, round, postfix.port, tails.postfix, postfixBook));
      process.stderr.write(`${JSON.stringify(results.at(-1))}\n`);
    }
  }
} finally {
  await stopAll();
  temp.remove();
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const summary = MODES.map((mode) => {
  const of = (system: Result['system']) => results.filter((r) => r.system === system && r.mode === mode);
  const row = (system: Result['system']) => ({
    acceptRate: median(of(system).map((r) => r.acceptRate)),
    endToEndRate: median(of(system).map((r) => r.endToEndRate)),
    p50Ms: median(of(system).map((r) => r.p50Ms)),
    p99Ms: median(of(system).map((r) => r.p99Ms)),
  });
  const mtopo = row('mtopo');
  const postfix = row('postfix');
  return {
    mode,
    mtopo,
    postfix,
    endToEndRatio: mtopo.endToEndRate / postfix.endToEndRate,
    acceptRatio: mtopo.acceptRate / postfix.acceptRate,
  };
});
const report = {
  date: new Date().toISOString(),
  command: `node bench/mta/run.ts --messages ${MESSAGES} --sessions ${SESSIONS} --size ${SIZE} --rounds ${ROUNDS} --modes ${MODES.join(',')}`,
  machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
  summary,
  results,
};
mkdirSync(join(values.out, '..'), { recursive: true });
writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
const f = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '-');
process.stdout.write(
  `\n${report.command}\n\n| connections | system | accept msg/s | end-to-end msg/s | p50 ms | p99 ms |\n|---|---|---|---|---|---|\n`,
);
for (const s of summary) {
  for (const system of ['mtopo', 'postfix'] as const) {
    const r = s[system];
    process.stdout.write(
      `| ${s.mode === 'reuse' ? 'reused (-d)' : 'one per message'} | ${system} | ${f(r.acceptRate)} | ${f(r.endToEndRate)} | ${f(r.p50Ms)} | ${f(r.p99Ms)} |\n`,
    );
  }
  process.stdout.write(
    `| | ratio mtopo/postfix | ${s.acceptRatio.toFixed(2)} | ${s.endToEndRatio.toFixed(2)} | | |\n`,
  );
}
