// A raw SMTP/LMTP client for transcript tests: it sends exactly the bytes a test gives it (bare LF,
// early talk, pipelined commands after STARTTLS) and reads replies one at a time. Real clients
// (swaks, curl, smtplib, Nodemailer) cover well-formed sessions; this covers the malformed ones they
// refuse to produce.
// Replies are read by the programs' own SMTP reply reader (images/lib/smtp/reply-reader.ts).
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { SmtpReplyReader } from '../../images/lib/smtp/reply-reader.ts';

export interface Reply {
  code: number;
  lines: string[];
  text: string;
}

export class SmtpTranscript {
  #socket: Socket | TLSSocket;
  #buffer = '';
  #reader = new SmtpReplyReader();
  /** Replies read off #buffer and not yet returned by read(). */
  #replies: Reply[] = [];
  #waiters: (() => void)[] = [];
  #closed = false;

  private constructor(socket: Socket | TLSSocket) {
    this.#socket = socket;
    this.#attach(socket);
  }

  static open(
    port: number,
    options: { tls?: boolean; host?: string; localAddress?: string } = {},
  ): Promise<SmtpTranscript> {
    const host = options.host ?? '127.0.0.1';
    const from = options.localAddress ? { localAddress: options.localAddress } : {};
    return new Promise((resolve, reject) => {
      const socket = options.tls
        ? tlsConnect({ port, host, rejectUnauthorized: false, ...from }, () =>
            resolve(new SmtpTranscript(socket)),
          )
        : connect({ port, host, ...from }, () => resolve(new SmtpTranscript(socket)));
      socket.once('error', reject);
    });
  }

  #attach(socket: Socket | TLSSocket): void {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      this.#wake();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
    socket.on('error', () => undefined);
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Writes bytes as given (latin1, so every byte value is possible). */
  write(data: string | Buffer): void {
    this.#socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Writes bytes and waits until the socket has taken them (for streams of megabytes). */
  async writeDrained(data: string | Buffer): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    if (this.#socket.write(bytes)) return;
    await new Promise<void>((resolve, reject) => {
      const onClose = () => reject(new Error('connection closed while writing'));
      this.#socket.once('close', onClose);
      this.#socket.once('drain', () => {
        this.#socket.off('close', onClose);
        resolve();
      });
    });
  }

  /** The next complete reply; rejects when the connection closes first or after `timeoutMs`. */
  async read(timeoutMs = 5000): Promise<Reply> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const reply = this.#takeReply();
      if (reply) return reply;
      if (this.#closed) throw new Error(`connection closed; unread: ${JSON.stringify(this.#buffer)}`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no reply within ${timeoutMs} ms; unread: ${JSON.stringify(this.#buffer)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  #takeReply(): Reply | undefined {
    if (this.#buffer.length > 0) {
      const text = this.#buffer;
      this.#buffer = '';
      for (const r of this.#reader.push(text)) {
        // Whole lines, code included, as the tests compare them.
        const lines = r.lines.map((l, i) => `${r.code}${i < r.lines.length - 1 ? '-' : ' '}${l}`);
        this.#replies.push({ code: r.code, lines, text: r.lines.join('\n') });
      }
    }
    return this.#replies.shift();
  }

  /** Sends one command line (CRLF added) and reads its reply. */
  async command(line: string, timeoutMs?: number): Promise<Reply> {
    this.write(`${line}\r\n`);
    return this.read(timeoutMs);
  }

  /** Upgrades the connection after a 220 reply to STARTTLS. */
  async startTls(): Promise<void> {
    const plain = this.#socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    const secure = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ socket: plain, rejectUnauthorized: false }, () => resolve(s));
      s.once('error', reject);
    });
    // RFC 3207 section 4.2: what came before the handshake is forgotten.
    this.#buffer = '';
    this.#reader = new SmtpReplyReader();
    this.#replies = [];
    this.#socket = secure;
    this.#attach(secure);
  }

  /** What was received but not yet returned by read(): whole replies first, then a partial line. */
  get pending(): string {
    this.#takeReply();
    const whole = this.#replies.map((r) => `${r.lines.join('\r\n')}\r\n`).join('');
    return `${whole}${this.#reader.pending}`;
  }

  close(): void {
    this.#socket.destroy();
  }
}
