// The benchmark's IMAP client: a raw socket that sends one tagged command and waits for its tagged
// answer, keeping only what the caller asks for, so that the client costs little and the same for
// every server. Not a parser: the tagged line is found by its "\r\n<tag> " prefix (tags are unique
// per connection and not in the benchmark's message bodies). A 1 GiB FETCH costs a chunk, not 1 GiB.
import { connect, type Socket } from 'node:net';

export interface Answer {
  /** The tagged status: OK, NO or BAD. */
  status: string;
  /** The tagged line. */
  line: string;
  /** Everything before it (untagged data), when `keep` was set; else empty. */
  untagged: string;
  /** Bytes received for this command. */
  bytes: number;
}

interface Waiting {
  needle: Buffer;
  keep: boolean;
  resolve: (a: Answer) => void;
  reject: (e: Error) => void;
}

export class ImapConnection {
  readonly #socket: Socket;
  #tail: Buffer = Buffer.from('\r\n');
  #kept: Buffer[] = [];
  #bytes = 0;
  #waiting: Waiting | undefined;
  #tagCount = 0;
  #closed = false;
  #greeting: Promise<string>;

  private constructor(socket: Socket) {
    this.#socket = socket;
    this.#greeting = new Promise((resolve, reject) => {
      this.#waiting = {
        needle: Buffer.from('\r\n* '),
        keep: true,
        resolve: (a) => resolve(a.untagged),
        reject,
      };
    });
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('error', (e) => this.#fail(e));
    socket.on('close', () => this.#fail(new Error('connection closed')));
  }

  static open(port: number): Promise<ImapConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1' });
      socket.setNoDelay(true);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new ImapConnection(socket));
      });
      socket.once('error', reject);
    });
  }

  /** The server's greeting line. */
  greeting(): Promise<string> {
    return this.#greeting;
  }

  /** Sends `command` (without tag and CRLF; may hold LITERAL+ literals) and waits for its answer. */
  command(command: string | Buffer, keep = false): Promise<Answer> {
    const tag = `T${++this.#tagCount}`;
    const body = typeof command === 'string' ? Buffer.from(command, 'latin1') : command;
    const promise = new Promise<Answer>((resolve, reject) => {
      this.#waiting = { needle: Buffer.from(`\r\n${tag} `), keep, resolve, reject };
    });
    // The tagged line is found after a CRLF: a command's answer always follows one (the previous
    // tagged line, or the greeting), so the tail starts with the last CRLF seen.
    this.#tail = Buffer.from('\r\n');
    this.#kept = [];
    this.#bytes = 0;
    this.#socket.write(Buffer.concat([Buffer.from(`${tag} `), body, Buffer.from('\r\n')]));
    return promise;
  }

  /** Sends a raw line (IDLE's DONE); no answer is awaited. */
  sendLine(line: string): void {
    this.#socket.write(`${line}\r\n`);
  }

  /** Waits for an untagged or continuation line that starts with `prefix` (IDLE's "+"). */
  waitLine(prefix: string): Promise<Answer> {
    const promise = new Promise<Answer>((resolve, reject) => {
      this.#waiting = { needle: Buffer.from(`\r\n${prefix}`), keep: false, resolve, reject };
    });
    this.#check();
    return promise;
  }

  close(): void {
    this.#closed = true;
    this.#socket.destroy();
  }

  #receive(chunk: Buffer): void {
    this.#bytes += chunk.length;
    const w = this.#waiting;
    if (w?.keep) this.#kept.push(chunk);
    this.#tail = this.#tail.length === 0 ? chunk : Buffer.concat([this.#tail, chunk]);
    this.#check();
  }

  #check(): void {
    const w = this.#waiting;
    if (!w) return;
    const at = this.#tail.indexOf(w.needle);
    const end = at < 0 ? -1 : this.#tail.indexOf('\r\n', at + w.needle.length);
    if (end < 0) {
      // Keep only what may hold the start of the tagged line: from the needle if it came, else the
      // last bytes it could start in. The next chunk is appended to this small tail, so a 1 GiB
      // FETCH is not copied again here (the whole tail was, up to 64 KiB per chunk: client CPU that
      // capped every server's rate alike).
      const from = at >= 0 ? at : Math.max(0, this.#tail.length - (w.needle.length - 1));
      if (from > 0) this.#tail = Buffer.from(this.#tail.subarray(from));
      return;
    }
    const line = this.#tail.subarray(at + 2, end).toString('latin1');
    const untagged = w.keep ? Buffer.concat(this.#kept).toString('latin1') : '';
    this.#tail = this.#tail.subarray(end);
    this.#waiting = undefined;
    const status = line.split(' ')[1] ?? '';
    w.resolve({ status, line, untagged, bytes: this.#bytes });
  }

  #fail(error: Error): void {
    const w = this.#waiting;
    this.#waiting = undefined;
    if (w && !this.#closed) w.reject(error);
  }
}

/** Sends a command and throws unless it answers OK. */
export async function ok(c: ImapConnection, command: string | Buffer, keep = false): Promise<Answer> {
  const answer = await c.command(command, keep);
  if (answer.status !== 'OK') throw new Error(`${String(command).slice(0, 60)}: ${answer.line}`);
  return answer;
}
