// Lines from a store before the splice, bounded: a store that sends a line longer than the limit is
// broken or not a store, and the login attempt ends (EPROTOCOL) rather than hold its bytes.

export class StoreLineBuffer {
  #buffer: Buffer = Buffer.alloc(0);
  readonly #maxLineBytes: number;

  constructor(maxLineBytes: number) {
    this.#maxLineBytes = maxLineBytes;
  }

  push(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
  }

  /** The next line without CRLF, undefined when incomplete; throws when over the limit. */
  nextLine(): string | undefined {
    const lf = this.#buffer.indexOf(0x0a);
    if (lf < 0) {
      if (this.#buffer.length > this.#maxLineBytes)
        throw new Error(`store line over ${this.#maxLineBytes} bytes`);
      return undefined;
    }
    const line = this.#buffer.subarray(0, lf).toString('utf8').replace(/\r$/, '');
    this.#buffer = this.#buffer.subarray(lf + 1);
    return line;
  }

  /** What came after the last line read (bytes the splice must pass on). */
  takeRest(): Buffer {
    const rest = this.#buffer;
    this.#buffer = Buffer.alloc(0);
    return rest;
  }
}
