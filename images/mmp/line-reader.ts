// Command lines before login for the line protocols (POP3, SMTP submission): bytes in, whole lines
// out, each at most `maxLineBytes` (CRLF excluded). An overlong line is not buffered: what arrives
// of it is dropped until its end, and the reader then reports it once as too long, so a client
// cannot make us hold more than one line's worth whatever it sends.

export type LineEvent = { kind: 'line'; line: string; raw: Buffer } | { kind: 'too-long' };

export class LineReader {
  readonly #maxLineBytes: number;
  #input: Buffer = Buffer.alloc(0);
  /** Dropping the rest of an overlong line. */
  #discarding = false;

  constructor(maxLineBytes: number) {
    this.#maxLineBytes = maxLineBytes;
  }

  push(chunk: Buffer): void {
    this.#input = this.#input.length === 0 ? chunk : Buffer.concat([this.#input, chunk]);
  }

  /** Bytes held, not yet read as a line. */
  get buffered(): number {
    return this.#input.length;
  }

  next(): LineEvent | undefined {
    if (this.#discarding) {
      // The end of the overlong line may come any distance on: look for it in all that arrived.
      const end = this.#input.indexOf(0x0a);
      if (end < 0) {
        this.#input = Buffer.alloc(0);
        return undefined;
      }
      this.#input = this.#input.subarray(end + 1);
      this.#discarding = false;
      return { kind: 'too-long' };
    }
    const limit = this.#maxLineBytes + 2;
    const lf = this.#input.subarray(0, limit).indexOf(0x0a);
    if (lf < 0) {
      if (this.#input.length < limit) return undefined;
      this.#discarding = true;
      return this.next();
    }
    const raw = this.#input.subarray(0, lf + 1);
    this.#input = this.#input.subarray(lf + 1);
    return { kind: 'line', line: raw.toString('utf8').replace(/\r?\n$/, ''), raw };
  }

  /** What is unread, handed over (to the store, after a login). */
  takeUnread(): Buffer {
    const rest = this.#input;
    this.#input = Buffer.alloc(0);
    return rest;
  }

  /** Forgets everything (STARTTLS: nothing sent before the handshake counts). */
  reset(): void {
    this.#input = Buffer.alloc(0);
    this.#discarding = false;
  }
}
