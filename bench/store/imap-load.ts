// The benchmark's IMAP workloads, the same for every system:
//
//   fill     APPENDs (LITERAL+) that put the test data in: the same bytes on every system
//   mixed    what a client does: LOGIN, SELECT, FETCH of headers, FETCH of a body, STORE of flags,
//            SEARCH (a flag key, a header key), APPEND, STORE \Deleted + UID EXPUNGE of what it
//            appended (so the mailbox keeps its size), LOGOUT; with short sessions (all of it once per
//            connection) or persistent ones (LOGIN and SELECT once, then the rest in a loop)
//   fetch    FETCH BODY.PEEK[] of every message of a big mailbox, one session, MB/s
//   idle     many sessions logged in, selected and in IDLE, held open
import { ImapConnection, ok } from './imap-client.ts';
import type { RunningSystem } from './systems.ts';

/** A message of about `bytes` bytes (CRLF lines of text), unique by `n`. */
export function makeMessage(n: number, bytes: number): Buffer {
  const head = [
    `From: Sender ${n % 17} <sender${n % 17}@remote.example>`,
    `To: user@siroe.example`,
    `Subject: message ${n} about topic ${n % 23}`,
    `Date: Tue, 01 Dec 2026 ${String(n % 24).padStart(2, '0')}:00:00 +0000`,
    `Message-ID: <bench-${n}@remote.example>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    '',
  ].join('\r\n');
  const line = `${'lorem ipsum dolor sit amet '.repeat(3).slice(0, 76)}\r\n`;
  const lines = Math.max(1, Math.ceil((bytes - head.length) / line.length));
  return Buffer.from(head + line.repeat(lines), 'latin1');
}

const appendCommand = (message: Buffer, flags = '') =>
  Buffer.concat([Buffer.from(`APPEND INBOX ${flags}{${message.length}+}\r\n`), message]);

async function session(
  system: Pick<RunningSystem, 'imapPort' | 'login'>,
  user: string,
): Promise<ImapConnection> {
  const c = await ImapConnection.open(system.imapPort);
  await c.greeting();
  await ok(c, `LOGIN ${system.login(user)}`);
  return c;
}

/** Appends `count` messages of `bytes` to the user's INBOX, `inFlight` at a time on one session. */
export async function fill(
  system: Pick<RunningSystem, 'imapPort' | 'login'>,
  user: string,
  count: number,
  bytes: number,
): Promise<void> {
  const c = await session(system, user);
  try {
    // One command at a time: the client waits for each OK, as the servers read commands in order.
    for (let i = 0; i < count; i++) await ok(c, appendCommand(makeMessage(i, bytes)));
    await ok(c, 'LOGOUT');
  } finally {
    c.close();
  }
}

export interface MixedResult {
  commands: number;
  errors: number;
  seconds: number;
  perSecond: number;
}

/** The client's work on a selected mailbox of `messages` messages; returns the commands sent. */
async function clientWork(
  c: ImapConnection,
  i: number,
  messages: number,
  bodyBytes: number,
): Promise<number> {
  const from = 1 + ((i * 37) % Math.max(1, messages - 25));
  const one = from + (i % 25);
  await ok(
    c,
    `UID FETCH ${from}:${from + 24} (UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT DATE MESSAGE-ID)])`,
  );
  await ok(c, `UID FETCH ${one} (BODY.PEEK[])`);
  await ok(c, `UID STORE ${one} ${i % 2 ? '-' : '+'}FLAGS.SILENT (\\Seen)`);
  await ok(c, i % 2 ? 'UID SEARCH UNSEEN' : `UID SEARCH SUBJECT "topic ${i % 23}"`);
  const appended = await ok(c, appendCommand(makeMessage(100_000 + i, bodyBytes), '(\\Seen) '));
  const uid = /APPENDUID \d+ (\d+)/.exec(appended.line)?.[1];
  if (!uid) throw new Error(`no APPENDUID: ${appended.line}`);
  await ok(c, `UID STORE ${uid} +FLAGS.SILENT (\\Deleted)`);
  await ok(c, `UID EXPUNGE ${uid}`);
  return 7;
}

/**
 * `workers` clients, each on its own user, for `seconds`. Short: a connection per round (LOGIN,
 * SELECT, the work, LOGOUT). Persistent: one connection per worker, the work in a loop.
 */
export async function mixed(
  system: RunningSystem,
  users: readonly string[],
  options: { workers: number; seconds: number; short: boolean; messages: number; bodyBytes: number },
): Promise<MixedResult> {
  let commands = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  await Promise.all(
    Array.from({ length: options.workers }, async (_, w) => {
      const user = users[w % users.length]!;
      let c: ImapConnection | undefined;
      for (let i = w * 1000; performance.now() < deadline; i++) {
        try {
          if (!c) {
            c = await session(system, user);
            await ok(c, 'SELECT INBOX');
            commands += 2;
          }
          commands += await clientWork(c, i, options.messages, options.bodyBytes);
          if (options.short) {
            await ok(c, 'LOGOUT');
            commands++;
            c.close();
            c = undefined;
          }
        } catch {
          errors++;
          c?.close();
          c = undefined;
        }
      }
      if (c) {
        await c.command('LOGOUT').catch(() => undefined);
        c.close();
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { commands, errors, seconds, perSecond: commands / seconds };
}

/** FETCH BODY.PEEK[] of messages 1..count, one command per `batch` messages; MB/s of the answers. */
export async function fetchAll(
  system: RunningSystem,
  user: string,
  count: number,
  batch = 16,
): Promise<{ bytes: number; seconds: number; mbPerSecond: number; commands: number }> {
  const c = await session(system, user);
  try {
    await ok(c, 'EXAMINE INBOX');
    let bytes = 0;
    let commands = 0;
    const started = performance.now();
    for (let from = 1; from <= count; from += batch) {
      const answer = await ok(c, `FETCH ${from}:${Math.min(count, from + batch - 1)} (BODY.PEEK[])`);
      bytes += answer.bytes;
      commands++;
    }
    const seconds = (performance.now() - started) / 1000;
    await ok(c, 'LOGOUT');
    return { bytes, seconds, mbPerSecond: bytes / seconds / 1e6, commands };
  } finally {
    c.close();
  }
}

/**
 * Opens up to `count` sessions (users in turn), each LOGIN, SELECT INBOX, IDLE, `parallel` at a
 * time; stops early when `stop()` says so (the machine's memory running low).
 */
export async function idleSessions(
  system: RunningSystem,
  users: readonly string[],
  count: number,
  stop: () => boolean,
  parallel = 40,
): Promise<{ opened: number; failed: number; close(): void }> {
  const open: ImapConnection[] = [];
  let next = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count && !stop()) {
        const i = next++;
        let c: ImapConnection | undefined;
        try {
          c = await session(system, users[i % users.length]!);
          await ok(c, 'SELECT INBOX');
          c.sendLine('I IDLE');
          await c.waitLine('+');
          open.push(c);
        } catch {
          failed++;
          c?.close();
        }
      }
    }),
  );
  return { opened: open.length, failed, close: () => open.forEach((c) => c.close()) };
}
