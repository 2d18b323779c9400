// SMTP smuggling (SEC Consult, 2023) works when two servers disagree on where a message ends: one
// takes `<LF>.<LF>` or `<CR>.<CR>` for the end of DATA, the other does not, and the rest of the
// "message" becomes a second, forged transaction downstream. RFC 5321 section 2.3.8 allows CR and LF
// only together, as CRLF.
//
// smtp-server ends DATA only at CRLF.CRLF, so nothing is smuggled *into* us; but it passes bare CR
// and LF through, and unstuffs `..` after a bare LF into a lone dot. Relayed verbatim, such a message
// could end early at a lax next hop (Dovecot 2.3's LMTP took LF.LF). So every message goes through
// this guard before it is queued:
//   - a line that is a single "." next to a bare CR or LF is a smuggling attempt: the message is
//     refused (554 5.5.2); no honest client sends one;
//   - every other bare CR or LF becomes CRLF (what Postfix's `smtpd_forbid_bare_newline = normalize`
//     does), so sloppy but honest senders still get through, and what we relay is clean.
// The guard is a byte-at-a-time state machine, so chunk boundaries do not matter.

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const CRLF = Buffer.from([CR, LF]);

export class SmugglingGuard {
  /** A CR was seen and the next byte decides whether it is part of CRLF. */
  #pendingCr = false;
  /** The current line began after a bare CR or LF (the message itself starts after a CRLF). */
  #lineAfterBare = false;
  /** Bytes in the current line so far, and whether the line is exactly "." so far. */
  #lineLength = 0;
  #lineIsDot = false;
  #smuggling = false;
  #bareLineEndings = 0;

  /** True once a dot line next to a bare CR or LF was seen: the message must be refused. */
  get smuggling(): boolean {
    return this.#smuggling;
  }

  /** How many bare CRs and LFs were turned into CRLF. */
  get bareLineEndings(): number {
    return this.#bareLineEndings;
  }

  /** The chunk with its line endings normalised (maybe shorter or longer than the input). */
  push(chunk: Buffer): Buffer {
    const out: Buffer[] = [];
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (this.#pendingCr) {
        this.#pendingCr = false;
        if (byte === LF) {
          // CRLF, as it should be; the CR was held back, emit the pair.
          out.push(CRLF);
          this.#endLine(false);
          start = i + 1;
          continue;
        }
        // A bare CR.
        out.push(CRLF);
        this.#endLine(true);
        start = i;
      }
      if (byte === CR) {
        out.push(chunk.subarray(start, i));
        this.#pendingCr = true;
        start = i + 1;
      } else if (byte === LF) {
        // A bare LF (a CRLF's LF is handled above).
        out.push(chunk.subarray(start, i), CRLF);
        this.#endLine(true);
        start = i + 1;
      } else {
        this.#lineIsDot = this.#lineLength === 0 && byte === DOT;
        this.#lineLength++;
      }
    }
    out.push(chunk.subarray(start));
    return Buffer.concat(out);
  }

  /** What is left at the end of the message. */
  end(): Buffer {
    if (!this.#pendingCr) {
      // An unterminated last line that is a lone dot after a bare line ending.
      if (this.#lineIsDot && this.#lineLength === 1 && this.#lineAfterBare) this.#smuggling = true;
      return Buffer.alloc(0);
    }
    this.#pendingCr = false;
    this.#endLine(true);
    return CRLF;
  }

  #endLine(bare: boolean): void {
    if (bare) this.#bareLineEndings++;
    if (this.#lineIsDot && this.#lineLength === 1 && (bare || this.#lineAfterBare)) this.#smuggling = true;
    this.#lineAfterBare = bare;
    this.#lineLength = 0;
    this.#lineIsDot = false;
  }
}

/** Runs a whole message through a guard (for tests and small messages). */
export function guardMessage(
  message: Buffer,
  chunkSize = message.length || 1,
): { output: Buffer; smuggling: boolean; bare: number } {
  const guard = new SmugglingGuard();
  const parts: Buffer[] = [];
  for (let i = 0; i < message.length; i += chunkSize)
    parts.push(guard.push(message.subarray(i, i + chunkSize)));
  parts.push(guard.end());
  return { output: Buffer.concat(parts), smuggling: guard.smuggling, bare: guard.bareLineEndings };
}
