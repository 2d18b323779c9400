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
  /** Skip literals rather than read them (a bulk FETCH): the client then costs less than a path. */
  readonly #skipLiterals: boolean;
  /** Bytes of a skipped literal still to come: counted, never decoded or scanned. */
  #literalLeft = 0;
  constructor(socket: Socket, skipLiterals: boolean) {
    this.#socket = socket;
    this.#skipLiterals = skipLiterals;
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (e) => this.#waiting?.reject(e));
    socket.on('close', () => this.#waiting?.reject(new Error('closed')));
  }
  /** What the socket read; `chunk` may be reused once this returns. */
  receive(chunk: Buffer) {
    let from = 0;
    if (this.#literalLeft > 0) {
      from = Math.min(this.#literalLeft, chunk.length);
      this.#literalLeft -= from;
      if (from === chunk.length) return;
    }
    this.#buffer += chunk.toString('latin1', from);
    this.#check();
  }
  #check() {
    const w = this.#waiting;
    if (!w) return;
    while (this.#skipLiterals) {
      const literal = /\{(\d+)\}\r\n/.exec(this.#buffer);
      if (!literal) break;
      const start = literal.index + literal[0].length;
      const size = Number(literal[1]);
      const rest = this.#buffer.length - start;
      this.#literalLeft = Math.max(0, size - rest);
      this.#buffer = this.#buffer.slice(0, literal.index) + this.#buffer.slice(start + Math.min(size, rest));
    }
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

/**
 * `bulk`: every read into one buffer of the connection's (`onread`), as the MMP's splice reads a
 * bulk FETCH, and literals counted rather than decoded: with a new buffer per read and every byte
 * made a string the client spent more CPU a gigabyte than the store and was the bulk phase's
 * bottleneck (docs/performance.md, MMP, thirteenth round).
 */
function open(port: number, bulk = false): Promise<Conversation> {
  return new Promise((resolve, reject) => {
    let conversation: Conversation | undefined;
    const callback = (read: number, buffer: Uint8Array) => {
      conversation?.receive(Buffer.from(buffer.buffer, buffer.byteOffset, read));
      return true;
    };
    // The buffer is made for a bulk connection only: a login's would be a quarter megabyte each.
    const onread = bulk ? { onread: { buffer: Buffer.allocUnsafe(256 * 1024), callback } } : {};
    const socket = connect({ port, host: '127.0.0.1', ...onread });
    socket.setNoDelay(true);
    socket.once('connect', () => resolve((conversation = new Conversation(socket, bulk))));
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
  const c = await open(port, true);
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
