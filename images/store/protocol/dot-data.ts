// The dot-terminated data of SMTP/LMTP DATA (RFC 5321 §4.5.2) and of POP3 multi-line responses
// (RFC 1939 §3), in both directions. Pure and incremental: bytes arrive in any chunks.
//
// Reading DATA, the only end is CRLF "." CRLF — never LF.LF, LF.CRLF or CRLF.LF, which Dovecot 2.3's
// LMTP took as ends (FIELD-NOTES) and which is how SMTP smuggling slips a second message past one
// hop and into the next. A bare LF is taken as a line end and stored as CRLF (what Postfix's
// `smtpd_forbid_bare_newline = normalize` does), so a message read back over IMAP or POP3 has only
// CRLF line ends; a line after a bare LF is unstuffed like any other but can never end the data.
// A lone "." line that is not preceded by CRLF stays in the message as content.

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const CRLF = Buffer.from('\r\n');

export interface DotDecodeResult {
  /** Message bytes, unstuffed, line ends as CRLF. */
  readonly data: Buffer[];
  /** The end of data was seen; `rest` is what followed it (pipelined commands). */
  readonly done: boolean;
  readonly rest: Buffer;
  /** Bare LFs seen so far (for logs: a sender that does not speak SMTP properly). */
  readonly bareLineFeeds: number;
}

export class DotDecoder {
  /** Where the next byte is: the start of a line after CRLF (terminator possible), after a bare LF, or mid-line. */
  #at: 'crlf' | 'lf' | 'mid' = 'crlf';
  /** The previous chunk ended with CR (its LF may be the first byte of the next chunk). */
  #pendingCR = false;
  /** Bytes held back because they could still begin the terminator (".", ".\r"). */
  #held: Buffer = Buffer.alloc(0);
  #bareLineFeeds = 0;
  #done = false;

  /** The terminator was read. */
  get done(): boolean {
    return this.#done;
  }

  feed(chunk: Buffer): DotDecodeResult {
    if (this.#done) return { data: [], done: true, rest: chunk, bareLineFeeds: this.#bareLineFeeds };
    const buf = this.#held.length > 0 ? Buffer.concat([this.#held, chunk]) : chunk;
    this.#held = Buffer.alloc(0);
    const out: Buffer[] = [];
    let i = 0;
    while (i < buf.length) {
      if (this.#pendingCR) {
        // A CR at the end of the last chunk: a CRLF now, or a bare CR kept as it was.
        this.#pendingCR = false;
        if (buf[i] === LF) {
          out.push(CRLF);
          i++;
          this.#at = 'crlf';
          continue;
        }
        out.push(Buffer.from([CR]));
        this.#at = 'mid';
      }
      if (this.#at !== 'mid' && buf[i] === DOT) {
        if (i + 1 >= buf.length) {
          this.#held = buf.subarray(i);
          break;
        }
        const next = buf[i + 1];
        if (next === CR) {
          if (i + 2 >= buf.length) {
            this.#held = buf.subarray(i);
            break;
          }
          if (buf[i + 2] === LF) {
            if (this.#at === 'crlf') {
              this.#done = true;
              return { data: out, done: true, rest: buf.subarray(i + 3), bareLineFeeds: this.#bareLineFeeds };
            }
            // "." CRLF after a bare LF: content, not an end.
            out.push(Buffer.from('.\r\n'));
            i += 3;
            this.#at = 'crlf';
            continue;
          }
        }
        if (next === LF) {
          // ".\n": content (never an end), normalised.
          this.#bareLineFeeds++;
          out.push(Buffer.from('.\r\n'));
          i += 2;
          this.#at = 'lf';
          continue;
        }
        i++; // dot-stuffing: the sender doubled a leading dot (RFC 5321 §4.5.2)
      }
      this.#at = 'mid';
      const lf = buf.indexOf(LF, i);
      if (lf < 0) {
        if (buf[buf.length - 1] === CR) {
          if (buf.length - 1 > i) out.push(buf.subarray(i, buf.length - 1));
          this.#pendingCR = true;
        } else {
          out.push(buf.subarray(i));
        }
        break;
      }
      if (lf > i && buf[lf - 1] === CR) {
        out.push(buf.subarray(i, lf + 1));
        this.#at = 'crlf';
      } else {
        if (lf > i) out.push(buf.subarray(i, lf));
        out.push(CRLF);
        this.#bareLineFeeds++;
        this.#at = 'lf';
      }
      i = lf + 1;
    }
    return { data: out, done: false, rest: Buffer.alloc(0), bareLineFeeds: this.#bareLineFeeds };
  }
}

/**
 * Dot-stuffs message bytes for a POP3 multi-line response (RFC 1939 §3): a line starting with "."
 * gets another. `atLineStart` says whether the chunk begins a line; the returned flag says whether
 * the next chunk will. The caller ends the response with ".\r\n" (after a CRLF of its own if the
 * message did not end with one).
 */
export function dotStuff(chunk: Buffer, atLineStart: boolean): { data: Buffer; atLineStart: boolean } {
  if (chunk.length === 0) return { data: chunk, atLineStart };
  const parts: Buffer[] = [];
  let start = 0;
  if (atLineStart && chunk[0] === DOT) parts.push(Buffer.from('.'));
  let lf = chunk.indexOf(LF);
  while (lf >= 0 && lf + 1 < chunk.length) {
    if (chunk[lf + 1] === DOT) {
      parts.push(chunk.subarray(start, lf + 1), Buffer.from('.'));
      start = lf + 1;
    }
    lf = chunk.indexOf(LF, lf + 1);
  }
  parts.push(chunk.subarray(start));
  return {
    data: parts.length === 1 ? parts[0]! : Buffer.concat(parts),
    atLineStart: chunk[chunk.length - 1] === LF,
  };
}
