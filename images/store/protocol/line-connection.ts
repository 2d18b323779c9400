// A line protocol's connection (LMTP, POP3), read by pulling: a session loop asks for the next
// command line, or for the next chunk of dot-terminated data, and the connection buffers what the
// client sent ahead (pipelining) up to a bound, past which it stops reading the socket.
//
// Lines end with CRLF only (RFC 5321 §2.3.8, RFC 1939 §3); a bare LF or CR inside a command line is
// a protocol error the session reports, not a line end (FIELD-NOTES: smtp-server ends a line at a
// bare LF, which is how command injection and smuggling start). STARTTLS discards whatever the
// client sent after the command in plaintext (RFC 3207 §4.2, RFC 2595 §3.1: CVE-2011-0411).
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { DotDecoder } from './dot-data.ts';

export type LineResult =
  | { kind: 'line'; line: Buffer }
  /** Longer than allowed: the line was read to its end and thrown away. */
  | { kind: 'too-long' }
  /** The peer closed, or the connection failed or timed out. */
  | { kind: 'closed' };

export interface LineConnectionOptions {
  /** Unread input kept before the socket is paused. */
  maxBufferedBytes: number;
  /** Closed when nothing arrives for this long while a read waits. */
  idleTimeoutMs: number;
}

const EMPTY = Buffer.alloc(0);

/** The peer went away (or timed out) in the middle of data: what was read must not be kept. */
export class ConnectionClosedError extends Error {
  constructor() {
    super('the connection closed in the middle of the data');
    this.name = 'ConnectionClosedError';
  }
}

export class LineConnection {
  #socket: Socket;
  #buffer: Buffer = EMPTY;
  #ended = false;
  #wake: (() => void) | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #timedOut = false;
  #holding = false;
  readonly #options: LineConnectionOptions;
  readonly remoteAddress: string;
  readonly remotePort: number;
  #onData = (chunk: Buffer) => {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    if (this.#buffer.length > this.#options.maxBufferedBytes) this.#socket.pause();
    this.#notify();
  };
  #onEnd = () => {
    this.#ended = true;
    this.#notify();
  };

  constructor(socket: Socket, options: LineConnectionOptions, peer?: { address: string; port: number }) {
    this.#socket = socket;
    this.#options = options;
    this.remoteAddress = peer?.address ?? socket.remoteAddress ?? '';
    this.remotePort = peer?.port ?? socket.remotePort ?? 0;
    this.#attach(socket);
  }

  #attach(socket: Socket): void {
    // Replies are small and each one is awaited by the client: Nagle's algorithm would hold a
    // second write back until the first is acknowledged, which the client delays (40 ms each).
    socket.setNoDelay(true);
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onEnd);
    socket.on('error', this.#onEnd);
  }

  #detach(socket: Socket): void {
    socket.off('data', this.#onData);
    socket.off('end', this.#onEnd);
    socket.off('close', this.#onEnd);
    socket.off('error', this.#onEnd);
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  get secure(): boolean {
    return this.#socket instanceof TLSSocket && this.#socket.encrypted;
  }

  get timedOut(): boolean {
    return this.#timedOut;
  }

  /** More client input is already here: a session may hold its replies back (cork) and send them together. */
  get hasBufferedInput(): boolean {
    return this.#buffer.length > 0;
  }

  /** Waits for more input; false when there will be none. Replies held back go out first. */
  async #more(): Promise<boolean> {
    this.flushReplies();
    if (this.#ended) return false;
    if (this.#socket.isPaused()) this.#socket.resume();
    await new Promise<void>((resolve) => {
      this.#wake = resolve;
      clearTimeout(this.#idleTimer);
      this.#idleTimer = setTimeout(() => {
        this.#timedOut = true;
        this.#ended = true;
        this.#notify();
      }, this.#options.idleTimeoutMs);
    });
    clearTimeout(this.#idleTimer);
    return !this.#ended || this.#buffer.length > 0;
  }

  #take(n: number): Buffer {
    const out = this.#buffer.subarray(0, n);
    this.#buffer = n >= this.#buffer.length ? EMPTY : this.#buffer.subarray(n);
    if (this.#socket.isPaused() && this.#buffer.length <= this.#options.maxBufferedBytes)
      this.#socket.resume();
    return out;
  }

  /** The next line without its CRLF. */
  async readLine(maxBytes: number): Promise<LineResult> {
    let skipping = false;
    let searchFrom = 0;
    for (;;) {
      const at = this.#buffer.indexOf('\r\n', searchFrom);
      if (at >= 0) {
        const line = this.#take(at + 2).subarray(0, at);
        if (skipping || at > maxBytes) return { kind: 'too-long' };
        return { kind: 'line', line: Buffer.from(line) };
      }
      if (this.#buffer.length > maxBytes) {
        // Keep only the last byte (it may be the CR of the CRLF that ends this line).
        skipping = true;
        this.#take(this.#buffer.length - 1);
      }
      searchFrom = Math.max(0, this.#buffer.length - 1);
      if (!(await this.#more())) return { kind: 'closed' };
    }
  }

  /**
   * The next chunk of dot-terminated data, decoded; undefined once the terminator was read. Rejects
   * when the connection ends first (the message is incomplete and must not be kept).
   */
  async readDataChunk(decoder: DotDecoder): Promise<Buffer | undefined> {
    if (decoder.done) return undefined;
    for (;;) {
      if (this.#buffer.length > 0) {
        const result = decoder.feed(this.#take(this.#buffer.length));
        if (result.done) {
          this.#buffer = result.rest.length > 0 ? Buffer.concat([result.rest, this.#buffer]) : this.#buffer;
          return result.data.length > 0 ? Buffer.concat(result.data) : undefined;
        }
        if (result.data.length > 0)
          return result.data.length === 1 ? Buffer.from(result.data[0]!) : Buffer.concat(result.data);
        continue;
      }
      if (!(await this.#more())) throw new ConnectionClosedError();
    }
  }

  /** Queues bytes for the client. */
  write(data: string | Buffer): void {
    if (!this.#socket.destroyed) this.#socket.write(data);
  }

  /** Writes, then waits while the client reads slowly: a big RETR never piles up in memory. */
  async writeWithBackpressure(data: Buffer): Promise<void> {
    if (this.#socket.destroyed) throw new ConnectionClosedError();
    if (this.#socket.write(data)) return;
    this.flushReplies();
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        this.#socket.off('drain', done);
        this.#socket.off('close', closed);
        resolve();
      };
      const closed = () => {
        this.#socket.off('drain', done);
        reject(new ConnectionClosedError());
      };
      this.#socket.once('drain', done);
      this.#socket.once('close', closed);
    });
  }

  /**
   * Holds replies back while the client's pipelined commands are being answered (RFC 2920 §3.1:
   * one write for a group); they go out when the connection next waits for input, or on flush.
   */
  holdReplies(): void {
    if (this.#holding) return;
    this.#holding = true;
    this.#socket.cork();
  }

  flushReplies(): void {
    if (!this.#holding) return;
    this.#holding = false;
    this.#socket.uncork();
  }

  /** Starts TLS as the server after STARTTLS/STLS was answered; the plaintext read ahead is dropped. */
  async startTls(secureContext: SecureContext): Promise<void> {
    this.flushReplies();
    this.#buffer = EMPTY;
    const plain = this.#socket;
    this.#detach(plain);
    const secure = new TLSSocket(plain, { isServer: true, secureContext });
    this.#socket = secure;
    this.#attach(secure);
    await new Promise<void>((resolve, reject) => {
      secure.once('secure', resolve);
      secure.once('error', reject);
      secure.once('close', () => reject(new Error('the connection closed during the TLS handshake')));
    });
  }

  /** Sends what is queued, then closes. */
  async end(data?: string): Promise<void> {
    clearTimeout(this.#idleTimer);
    this.flushReplies();
    if (this.#socket.destroyed) return;
    await new Promise<void>((resolve) => {
      this.#socket.end(data ?? '', () => resolve());
      setTimeout(resolve, 2000).unref();
    });
    this.#socket.destroy();
  }

  destroy(): void {
    clearTimeout(this.#idleTimer);
    this.#socket.destroy();
  }
}
