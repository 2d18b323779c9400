// A small reader of SMTP/LMTP replies (RFC 5321 section 4.2): bytes in, whole replies out. A reply
// is one or more lines "250-…" ending with a line "250 …" (or a bare "250"); the enhanced status code
// (RFC 3463, RFC 2034) is read off the last line when there is one. Bounded: a line longer than
// MAX_LINE or a reply of more than MAX_LINES lines is a broken peer, not something to buffer.
//
// Used by the edge's recipient probe, the transcript tests and, later, the MMP's SMTP proxy.
import { MtopoError } from '../errors.ts';

export interface SmtpReply {
  readonly code: number;
  /** Each line without its code and separator. */
  readonly lines: readonly string[];
  /** The lines joined by a space, enhanced status code included. */
  readonly text: string;
  /** "5.1.1", when the reply carries one. */
  readonly enhanced: string | undefined;
}

/** RFC 5321 section 4.5.3.1.5 allows 512 octets per reply line; peers exceed it, so some room. */
export const MAX_LINE = 4096;
/** An EHLO reply has a line per extension; a hundred is far beyond any real server. */
export const MAX_LINES = 100;

const ENHANCED = /^([245])\.(\d{1,3})\.(\d{1,3})(?= |$)/;
const REPLY_LINE = /^(\d{3})([ -]|$)(.*)$/;

/** The enhanced status code at the start of a reply text, if any. */
export function enhancedStatus(text: string): string | undefined {
  const match = ENHANCED.exec(text);
  return match ? `${match[1]}.${match[2]}.${match[3]}` : undefined;
}

export class SmtpReplyReader {
  #buffer = '';
  #lines: string[] = [];
  #code: number | undefined;

  /** Feeds bytes (as latin1 or utf8 text); returns the replies they complete, in order. */
  push(chunk: string): SmtpReply[] {
    this.#buffer += chunk;
    const replies: SmtpReply[] = [];
    for (;;) {
      const end = this.#buffer.indexOf('\n');
      if (end < 0) break;
      const line = this.#buffer.slice(0, end).replace(/\r$/, '');
      this.#buffer = this.#buffer.slice(end + 1);
      const reply = this.#line(line);
      if (reply) replies.push(reply);
    }
    if (this.#buffer.length > MAX_LINE)
      throw new MtopoError('EPROTOCOL', `reply line longer than ${MAX_LINE} characters`);
    return replies;
  }

  /** Text received that does not end a line yet. */
  get pending(): string {
    return this.#buffer;
  }

  #line(line: string): SmtpReply | undefined {
    const match = REPLY_LINE.exec(line);
    if (!match)
      throw new MtopoError('EPROTOCOL', `not an SMTP reply line: ${JSON.stringify(line.slice(0, 80))}`);
    const code = Number(match[1]);
    if (this.#code !== undefined && code !== this.#code)
      throw new MtopoError('EPROTOCOL', `reply code changed from ${this.#code} to ${code} within one reply`);
    this.#code = code;
    this.#lines.push(match[3]!);
    if (this.#lines.length > MAX_LINES)
      throw new MtopoError('EPROTOCOL', `reply of more than ${MAX_LINES} lines`);
    if (match[2] === '-') return undefined;
    const lines = this.#lines;
    this.#lines = [];
    this.#code = undefined;
    const last = lines[lines.length - 1]!;
    return { code, lines, text: lines.join(' '), enhanced: enhancedStatus(last) };
  }
}
