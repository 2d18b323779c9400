// The benchmark's IMAP load: raw sockets, so the client costs as little as possible and is the
// same for every target. Each worker loops: connect, LOGIN, SELECT, FETCH 1 (BODY[]), LOGOUT.
import { connect, type Socket } from 'node:net';

export interface Target {
  port: number;
}

class Conversation {
  #socket: Socket;
  #buffer = '';
  #waiting: { pattern: RegExp; resolve: () => void; reject: (e: Error) => void } | undefined;
  constructor(socket: Socket) {
    this.#socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      this.#check();
    });
    socket.on('error', (e) => this.#waiting?.reject(e));
    socket.on('close', () => this.#waiting?.reject(new Error('closed')));
  }
  #check() {
    const w = this.#waiting;
    if (!w) return;
    const m = w.pattern.exec(this.#buffer);
    if (!m) {
      // Keep only the tail: a FETCH of a big message must not be held whole.
      if (this.#buffer.length > 65536) this.#buffer = this.#buffer.slice(-512);
      return;
    }
    this.#buffer = this.#buffer.slice(m.index + m[0].length);
    this.#waiting = undefined;
    w.resolve();
  }
  expect(pattern: RegExp): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#waiting = { pattern, resolve, reject };
      this.#check();
    });
  }
  send(line: string) {
    this.#socket.write(line);
  }
  close() {
    this.#socket.destroy();
  }
}

function open(port: number): Promise<Conversation> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.setNoDelay(true);
    socket.once('connect', () => resolve(new Conversation(socket)));
    socket.once('error', reject);
  });
}

/** One session; returns the milliseconds from connect() to the greeting's last byte. */
async function session(port: number, user: string, password: string): Promise<number> {
  const started = performance.now();
  const c = await open(port);
  try {
    await c.expect(/^\* OK[^\r]*\r\n/m);
    const greetingMs = performance.now() - started;
    c.send(`a LOGIN ${user} ${password}\r\n`);
    await c.expect(/^a OK[^\r]*\r\n/m);
    c.send('b SELECT INBOX\r\n');
    await c.expect(/^b OK[^\r]*\r\n/m);
    c.send('c FETCH 1 (BODY[])\r\n');
    await c.expect(/^c OK[^\r]*\r\n/m);
    c.send('d LOGOUT\r\n');
    await c.expect(/^d OK[^\r]*\r\n/m);
    return greetingMs;
  } finally {
    c.close();
  }
}

export interface LoginRate {
  sessions: number;
  errors: number;
  perSecond: number;
  /** connect() → greeting, milliseconds: median and 99th percentile over the sessions. */
  greetingMs: { p50: number; p99: number };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Logins per second with `concurrency` workers for `seconds`; errors counted, not thrown. */
export async function loginRate(
  port: number,
  users: { name: string; password: string }[],
  concurrency: number,
  seconds: number,
): Promise<LoginRate> {
  const deadline = performance.now() + seconds * 1000;
  let sessions = 0;
  let errors = 0;
  const greetings: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      for (let i = 0; performance.now() < deadline; i++) {
        const user = users[(w + i * concurrency) % users.length]!;
        try {
          greetings.push(await session(port, user.name, user.password));
          sessions++;
        } catch {
          errors++;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  greetings.sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 100) / 100;
  return {
    sessions,
    errors,
    perSecond: sessions / elapsed,
    greetingMs: { p50: round(percentile(greetings, 50)), p99: round(percentile(greetings, 99)) },
  };
}

/** MB/s of FETCH BODY[] of one large message, `fetches` times over one connection. */
export async function fetchThroughput(
  port: number,
  user: { name: string; password: string },
  fetches: number,
  messageBytes: number,
): Promise<number> {
  const c = await open(port);
  await c.expect(/^\* OK[^\r]*\r\n/m);
  c.send(`a LOGIN ${user.name} ${user.password}\r\n`);
  await c.expect(/^a OK[^\r]*\r\n/m);
  c.send('b SELECT INBOX\r\n');
  await c.expect(/^b OK[^\r]*\r\n/m);
  const started = performance.now();
  for (let i = 0; i < fetches; i++) {
    c.send(`f${i} FETCH 1 (BODY.PEEK[])\r\n`);
    await c.expect(new RegExp(`^f${i} OK[^\\r]*\\r\\n`, 'm'));
  }
  const seconds = (performance.now() - started) / 1000;
  c.close();
  return (fetches * messageBytes) / seconds / 1e6;
}

/** Opens `count` sessions, logged in and selected, and leaves them idle; returns how to close them. */
export async function idleSessions(
  port: number,
  users: { name: string; password: string }[],
  count: number,
  parallel = 20,
): Promise<{ opened: number; close(): void }> {
  const open_: Conversation[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        const i = next++;
        const user = users[i % users.length]!;
        try {
          const c = await open(port);
          // A session that does not log in within 10 s is counted as not opened.
          const timer = setTimeout(() => c.close(), 10_000);
          await c.expect(/^\* OK[^\r]*\r\n/m);
          c.send(`a LOGIN ${user.name} ${user.password}\r\n`);
          await c.expect(/^a OK[^\r]*\r\n/m);
          c.send('b SELECT INBOX\r\n');
          await c.expect(/^b OK[^\r]*\r\n/m);
          clearTimeout(timer);
          open_.push(c);
        } catch {
          // counted by the difference
        }
      }
    }),
  );
  return { opened: open_.length, close: () => open_.forEach((c) => c.close()) };
}
