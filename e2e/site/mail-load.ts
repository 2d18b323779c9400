// A steady mail load for the fault tests: mail-load.py's sender running in the outside namespace
// from a zone's address, its events (one JSON line each) read back to count what was sent,
// acknowledged, refused with 4xx/5xx; and the counter that reads a mailbox through the MMP pool
// over IMAP to check every acknowledged message arrived exactly once, as sent.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ManagedProcess, run } from '../../testing/support/processes.ts';
import { waitFor } from '../../testing/support/wait.ts';
import type { OutsideNetwork } from '../outside/outside-network.ts';

const AGENT = path.join(import.meta.dirname, 'mail-load.py');

export interface LoadEvent {
  readonly n?: number;
  /** The message's recipient (mail-load.py rotates over its list). */
  readonly to?: string;
  readonly event: 'ack' | '4xx' | '5xx' | 'conn' | 'ambiguous' | 'gave-up' | 'done';
  readonly code?: number;
  readonly stage?: string;
  readonly reply?: string;
  readonly t: number;
}

export interface LoadCounts {
  /** Distinct messages the sender started (each n once, whatever its retries). */
  readonly sent: number;
  readonly acknowledged: number;
  readonly fourXX: number;
  readonly fiveXX: number;
  readonly ambiguous: number;
  readonly connectionFailures: number;
  readonly fiveXXReplies: string[];
}

/** The counts of a sender's events (pure, for its unit test). */
export function countEvents(events: readonly LoadEvent[]): LoadCounts {
  const started = new Set(events.filter((e) => e.n !== undefined).map((e) => e.n));
  const of = (kind: LoadEvent['event']) => events.filter((e) => e.event === kind);
  return {
    sent: started.size,
    acknowledged: new Set(of('ack').map((e) => e.n)).size,
    fourXX: of('4xx').length,
    fiveXX: of('5xx').length,
    ambiguous: of('ambiguous').length,
    connectionFailures: of('conn').length,
    fiveXXReplies: of('5xx').map((e) => `${e.stage}: ${e.code} ${e.reply}`),
  };
}

export function parseEvents(text: string): LoadEvent[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LoadEvent);
}

/** The body mail-load.py writes for message n of a prefix (as the store must give it back). */
export function bodyOf(prefix: string, n: number): string {
  let body = `message ${n} of ${prefix}\r\n`;
  for (let i = 0; i < 8; i++) body += `line ${i} of message ${n}\r\n`;
  return body;
}

export interface MailLoad {
  readonly prefix: string;
  events(): LoadEvent[];
  counts(): LoadCounts;
  /** Stops sending (the message in hand is finished, 4xx retried) and waits for the sender to exit. */
  stop(): Promise<LoadCounts>;
}

export function startMailLoad(
  outside: OutsideNetwork,
  scratch: string,
  options: {
    readonly prefix: string;
    readonly source: string;
    readonly server: { readonly host: string; readonly port: number };
    readonly to: readonly string[];
    readonly intervalSeconds?: number;
  },
): MailLoad {
  const logFile = path.join(scratch, `load-${options.prefix}.jsonl`);
  const stopFile = path.join(scratch, `load-${options.prefix}.stop`);
  writeFileSync(logFile, '');
  const config = {
    host: options.server.host,
    port: options.server.port,
    source: options.source,
    sender: `load@example.org`,
    to: options.to,
    prefix: options.prefix,
    stop: stopFile,
    interval: options.intervalSeconds ?? 0.5,
    drain: 180,
  };
  const [command, args] = outside.wrap('/usr/bin/python3', [AGENT, 'send', JSON.stringify(config)]);
  const sender = ManagedProcess.spawn(`load-${options.prefix}`, command, args, { logFile });
  const events = () => parseEvents(readFileSync(logFile, 'utf8'));
  return {
    prefix: options.prefix,
    events,
    counts: () => countEvents(events()),
    stop: async () => {
      writeFileSync(stopFile, '');
      await waitFor('the sender to finish its last message', () => !sender.running, {
        timeoutMs: 300_000,
        intervalMs: 500,
      });
      return countEvents(events());
    },
  };
}

export interface ImapReader {
  readonly outside: OutsideNetwork;
  readonly source: string;
  readonly server: { readonly host: string; readonly port: number };
  readonly hostname: string;
  readonly caFile: string;
}

export interface Found {
  readonly uid: number;
  readonly subject: string;
  readonly text: string;
}

/** Runs the agent's IMAP mode as `account`, from the reader's zone through the MMP pool. */
async function imapAgent(
  reader: ImapReader,
  mode: 'count' | 'login',
  account: { user: string; password: string },
  extra: Record<string, unknown> = {},
): Promise<unknown> {
  const config = {
    host: reader.server.host,
    port: reader.server.port,
    source: reader.source,
    hostname: reader.hostname,
    ca: reader.caFile,
    user: account.user,
    password: account.password,
    ...extra,
  };
  const [command, args] = reader.outside.wrap('/usr/bin/python3', [AGENT, mode, JSON.stringify(config)]);
  const result = await run(command, args, { timeoutMs: 120_000 });
  if (result.code !== 0) throw new Error(`IMAP ${mode} failed to run: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

/** The INBOX messages whose subject contains `prefix`, read through the MMP pool. */
export async function mailboxMessages(
  reader: ImapReader,
  account: { user: string; password: string },
  prefix: string,
): Promise<Found[]> {
  return (await imapAgent(reader, 'count', account, { prefix })) as Found[];
}

/** One IMAP login through the MMP pool: ok, or the server's NO text (with its response code). */
export async function imapLogin(
  reader: ImapReader,
  account: { user: string; password: string },
): Promise<{ ok: boolean; reply: string }> {
  return (await imapAgent(reader, 'login', account)) as { ok: boolean; reply: string };
}

export interface Delivery {
  readonly delivered: number;
  /** Acknowledged messages not in the mailbox. */
  readonly lost: number[];
  /** Messages found more than once. */
  readonly duplicated: number[];
  /** Messages whose body is not what was sent. */
  readonly altered: number[];
}

/** What a mailbox holds against what the sender had acknowledged (pure). */
export function compareDelivery(
  prefix: string,
  events: readonly LoadEvent[],
  found: readonly Found[],
): Delivery {
  const acknowledged = new Set(events.filter((e) => e.event === 'ack').map((e) => e.n!));
  const seen = new Map<number, number>();
  const altered: number[] = [];
  for (const message of found) {
    const match = new RegExp(`^${prefix}-(\\d+)$`).exec(message.subject);
    if (match === null) continue;
    const n = Number(match[1]);
    seen.set(n, (seen.get(n) ?? 0) + 1);
    if (message.text !== bodyOf(prefix, n)) altered.push(n);
  }
  return {
    delivered: seen.size,
    lost: [...acknowledged].filter((n) => !seen.has(n)).sort((a, b) => a - b),
    duplicated: [...seen].filter(([n, times]) => times > 1 && acknowledged.has(n)).map(([n]) => n),
    altered,
  };
}
