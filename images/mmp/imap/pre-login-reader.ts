// The IMAP command reader for what a client sends before login: bytes in, commands as generic tokens
// out (RFC 9051 section 4: atoms, quoted strings, literals, parenthesized lists). It is pull-based:
// the session pushes what the socket gave and asks for the next event when it is ready for one, so
// a command is read only after the previous one finished, and whatever follows a login stays
// unread, to be handed to the store untouched.
//
// Small on purpose: before login only CAPABILITY, ID, STARTTLS, LOGIN, AUTHENTICATE, NOOP and
// LOGOUT matter, so there is no BODY[section] syntax. The store has a full streaming reader
// (images/store/imap/protocol/command-reader.ts, branch store-imap); once it moves to images/lib,
// this one should give way to it.
//
// Literals (RFC 9051 section 4.3): a synchronizing {n} is accepted up to the limit (we answer "+")
// and refused above it before the client sends it. A non-synchronizing {n+} (RFC 7888) is accepted
// only when LITERAL+ is advertised; otherwise its bytes, which the client sends at once, are read
// and dropped, so that they can never be taken for commands (nginx's mail proxy accepted them).

export type Token =
  | { kind: 'atom'; value: string }
  | { kind: 'string'; value: Buffer; literal: boolean }
  | { kind: 'list'; items: Token[] };

export interface ParsedCommand {
  tag: string;
  /** Upper-cased. */
  name: string;
  args: Token[];
}

export type ReaderEvent =
  | { kind: 'command'; command: ParsedCommand }
  /** A synchronizing literal was accepted: send "+ …". */
  | { kind: 'continue' }
  /** In line mode (an AUTHENTICATE response): one line without its CRLF. */
  | { kind: 'line'; line: Buffer }
  /** The command is refused with BAD; the session goes on. */
  | { kind: 'reject'; tag?: string; text: string }
  /** The session must end (`* BYE`). */
  | { kind: 'fatal'; text: string };

export interface PreLoginReaderLimits {
  maxLineBytes: number;
  maxLiteralBytes: number;
  maxCommandBytes: number;
  maxDiscardBytes: number;
  maxNestingDepth: number;
  maxTokens: number;
}

type State =
  | { name: 'line' }
  | { name: 'literal'; size: number }
  | { name: 'discard-line' }
  | { name: 'discard-literal'; left: number };

const LITERAL_MARKER = /\{(\d{1,20})(\+?)\}$/;
const TAG = /^([^\s(){%*"\\+\]]+)/;

export class PreLoginReader {
  #buffer: Buffer = Buffer.alloc(0);
  #state: State = { name: 'line' };
  #lines: { line: Buffer; literal?: Buffer }[] = [];
  #commandBytes = 0;
  #tag: string | undefined;
  #pending: Extract<ReaderEvent, { kind: 'reject' }> | undefined;
  #discarded = 0;
  readonly #limits: PreLoginReaderLimits;
  /** Whether LITERAL+ is advertised: then {n+} is accepted like {n}, without the "+". */
  literalPlus: boolean;
  /** The next event is a raw line (set by the session while it waits for a SASL response). */
  lineMode = false;

  constructor(limits: PreLoginReaderLimits, literalPlus = false) {
    this.#limits = limits;
    this.literalPlus = literalPlus;
  }

  push(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
  }

  /** Bytes received and not yet read. */
  get buffered(): number {
    return this.#buffer.length;
  }

  /** Everything not yet read, taken out of the reader (for the store after login, or to discard). */
  takeUnread(): Buffer {
    const rest = this.#buffer;
    this.#buffer = Buffer.alloc(0);
    return rest;
  }

  /** Forgets the command in progress and everything unread (after STARTTLS: RFC 9051 section 6.2.1). */
  reset(): void {
    this.#buffer = Buffer.alloc(0);
    this.#state = { name: 'line' };
    this.#resetCommand();
    this.#pending = undefined;
    this.lineMode = false;
  }

  /** The next event, or undefined when more input is needed. */
  next(): ReaderEvent | undefined {
    for (;;) {
      const state = this.#state;
      if (state.name === 'line') {
        const event = this.#readLine();
        if (event === 'more') return undefined;
        if (event !== 'again') return event;
      } else if (state.name === 'literal') {
        if (this.#buffer.length < state.size) return undefined;
        this.#lines[this.#lines.length - 1]!.literal = this.#take(state.size);
        this.#state = { name: 'line' };
      } else if (state.name === 'discard-literal') {
        const dropped = Math.min(state.left, this.#buffer.length);
        this.#buffer = this.#buffer.subarray(dropped);
        state.left -= dropped;
        if (state.left > 0) return undefined;
        this.#state = { name: 'discard-line' };
      } else {
        const event = this.#discardLine();
        if (event === 'more') return undefined;
        if (event) return event;
      }
    }
  }

  #take(n: number): Buffer {
    const out = Buffer.from(this.#buffer.subarray(0, n));
    this.#buffer = this.#buffer.subarray(n);
    return out;
  }

  #readLine(): ReaderEvent | 'more' | 'again' {
    const limit = this.#limits.maxLineBytes + 2;
    const lf = this.#buffer.subarray(0, limit).indexOf(0x0a);
    if (lf < 0) {
      if (this.#buffer.length < limit) return 'more';
      const tag = this.#tag ?? TAG.exec(this.#buffer.subarray(0, 128).toString('latin1'))?.[1];
      const line = this.lineMode;
      this.lineMode = false;
      this.#resetCommand();
      this.#pending = reject(
        line ? undefined : tag,
        `Line too long (over ${this.#limits.maxLineBytes} bytes)`,
      );
      this.#state = { name: 'discard-line' };
      return 'again';
    }
    const raw = this.#take(lf + 1);
    const line = raw.subarray(0, raw.length - (raw.length >= 2 && raw[raw.length - 2] === 0x0d ? 2 : 1));
    if (this.lineMode) {
      this.lineMode = false;
      return { kind: 'line', line };
    }
    if (this.#lines.length === 0) {
      if (line.length === 0) return 'again'; // an empty line between commands: ignored, as Dovecot does
      this.#tag = TAG.exec(line.toString('latin1'))?.[1];
    }
    this.#commandBytes += line.length + 2;
    this.#lines.push({ line });
    const marker = LITERAL_MARKER.exec(line.subarray(-24).toString('latin1'));
    if (!marker) return this.#finishCommand();
    return this.#startLiteral(Number(marker[1]), marker[2] === '+');
  }

  #startLiteral(size: number, nonSync: boolean): ReaderEvent | 'again' {
    let refusal: string | undefined;
    if (nonSync && !this.literalPlus) refusal = 'Non-synchronizing literals are not supported before login';
    else if (size > this.#limits.maxLiteralBytes || this.#commandBytes + size > this.#limits.maxCommandBytes)
      refusal = `Literal over the limit of ${this.#limits.maxLiteralBytes} bytes`;
    if (refusal) {
      const event = reject(this.#tag, refusal);
      this.#resetCommand();
      if (!nonSync) return event; // the client waits for "+" and sends nothing
      if (size > this.#limits.maxDiscardBytes) return { kind: 'fatal', text: 'Literal too large, closing' };
      this.#pending = event;
      this.#state = { name: 'discard-literal', left: size };
      return 'again';
    }
    this.#commandBytes += size;
    this.#state = { name: 'literal', size };
    return nonSync ? 'again' : { kind: 'continue' };
  }

  /** Drops input up to the end of the line (and any non-synchronizing literal it announces). */
  #discardLine(): ReaderEvent | undefined | 'more' {
    const lf = this.#buffer.indexOf(0x0a);
    if (lf < 0) {
      // Keep the last bytes: they may be the start of a literal marker.
      const excess = this.#buffer.length - 32;
      if (excess > 0) {
        this.#buffer = this.#buffer.subarray(excess);
        this.#discarded += excess;
      }
      if (this.#discarded > this.#limits.maxDiscardBytes)
        return { kind: 'fatal', text: 'Too much unparseable input, closing' };
      return 'more';
    }
    const tail = this.#take(lf + 1)
      .toString('latin1')
      .replace(/\r?\n$/, '');
    this.#discarded += tail.length;
    if (this.#discarded > this.#limits.maxDiscardBytes)
      return { kind: 'fatal', text: 'Too much unparseable input, closing' };
    const marker = LITERAL_MARKER.exec(tail);
    if (marker && marker[2] === '+') {
      this.#state = { name: 'discard-literal', left: Number(marker[1]) };
      return undefined;
    }
    this.#state = { name: 'line' };
    this.#discarded = 0;
    const event = this.#pending;
    this.#pending = undefined;
    return event;
  }

  #finishCommand(): ReaderEvent {
    const lines = this.#lines;
    const tag = this.#tag;
    this.#resetCommand();
    try {
      const [tagToken, nameToken, ...args] = tokenize(lines, this.#limits);
      if (tagToken?.kind !== 'atom' || !isValidTag(tagToken.value))
        return reject(undefined, 'Missing or invalid tag');
      if (nameToken?.kind !== 'atom' || !/^[A-Za-z]+$/.test(nameToken.value))
        return reject(tagToken.value, 'Missing or invalid command name');
      return { kind: 'command', command: { tag: tagToken.value, name: nameToken.value.toUpperCase(), args } };
    } catch (error) {
      if (error instanceof SyntaxFault)
        return reject(tag && isValidTag(tag) ? tag : undefined, error.message);
      throw error;
    }
  }

  #resetCommand(): void {
    this.#lines = [];
    this.#commandBytes = 0;
    this.#tag = undefined;
  }
}

function reject(tag: string | undefined, text: string): Extract<ReaderEvent, { kind: 'reject' }> {
  return tag ? { kind: 'reject', tag, text } : { kind: 'reject', text };
}

/** RFC 9051: tag = 1*<any ASTRING-CHAR except "+">. */
export function isValidTag(tag: string): boolean {
  return tag.length <= 64 && /^[\x21\x23\x24\x26\x27\x2c-\x5b\x5d-\x7a\x7c\x7e]+$/.test(tag);
}

export class SyntaxFault extends Error {}

function tokenize(
  lines: readonly { line: Buffer; literal?: Buffer }[],
  limits: Pick<PreLoginReaderLimits, 'maxNestingDepth' | 'maxTokens'>,
): Token[] {
  const root: Token[] = [];
  const stack: Token[][] = [root];
  let count = 0;
  const add = (token: Token) => {
    if (++count > limits.maxTokens) throw new SyntaxFault('Too many arguments');
    stack[stack.length - 1]!.push(token);
  };
  for (const { line, literal } of lines) {
    let i = 0;
    while (i < line.length) {
      const c = line[i]!;
      if (c === 0x20) {
        i++;
      } else if (c === 0x28) {
        if (stack.length > limits.maxNestingDepth) throw new SyntaxFault('Too deeply nested');
        const list: Token = { kind: 'list', items: [] };
        add(list);
        stack.push(list.items);
        i++;
      } else if (c === 0x29) {
        if (stack.length === 1) throw new SyntaxFault('Unexpected ")"');
        stack.pop();
        i++;
      } else if (c === 0x22) {
        const [value, end] = readQuoted(line, i);
        add({ kind: 'string', value, literal: false });
        i = end;
      } else if (c === 0x7b) {
        if (literal === undefined || !/^\{\d{1,20}\+?\}$/.test(line.subarray(i).toString('latin1')))
          throw new SyntaxFault('Invalid literal');
        add({ kind: 'string', value: literal, literal: true });
        i = line.length;
      } else {
        let end = i;
        while (end < line.length && !isAtomEnd(line[end]!)) end++;
        if (end === i) throw new SyntaxFault(`Unexpected character 0x${c.toString(16)}`);
        add({ kind: 'atom', value: line.subarray(i, end).toString('utf8') });
        i = end;
      }
    }
  }
  if (stack.length !== 1) throw new SyntaxFault('Unbalanced parentheses');
  return root;
}

function isAtomEnd(c: number): boolean {
  return c === 0x20 || c === 0x28 || c === 0x29 || c === 0x22 || c === 0x7b || c < 0x20 || c === 0x7f;
}

function readQuoted(line: Buffer, start: number): [Buffer, number] {
  const bytes: number[] = [];
  for (let i = start + 1; i < line.length; i++) {
    const c = line[i]!;
    if (c === 0x22) return [Buffer.from(bytes), i + 1];
    if (c === 0x5c) {
      const next = line[i + 1];
      if (next !== 0x22 && next !== 0x5c) throw new SyntaxFault('Invalid escape in quoted string');
      bytes.push(next);
      i++;
    } else if (c === 0) {
      throw new SyntaxFault('NUL in quoted string');
    } else {
      bytes.push(c);
    }
  }
  throw new SyntaxFault('Unterminated quoted string');
}
