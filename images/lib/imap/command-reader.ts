// The streaming IMAP command reader: bytes in, whole commands (as generic tokens) out. It knows no
// command's arguments, only the syntax every command shares (RFC 9051 section 4, RFC 3501 section 9):
// atoms, quoted strings, literals {n}, non-synchronizing literals {n+} (RFC 7888), literal8 ~{n}
// (RFC 3516), parenthesized lists and FETCH's BODY[section]<partial>. It is pull-based: the session
// pushes what the socket gave and asks for the next event when it is ready for one, so a command
// is read only after the previous one finished, and the session can switch to raw lines
// (AUTHENTICATE's responses, IDLE's DONE) between commands.
//
// Every limit is checked before the bytes it guards are held: a line over maxLineBytes is dropped
// as it arrives, a synchronizing literal over its limit is refused before the client sends it, a
// non-synchronizing one is read and dropped.
//
// APPEND literals past `streamAppendLiteralBytes` (a message near APPENDLIMIT) are not held either:
// the reader hands their bytes out as they arrive ('literal-start', then 'literal-data' events), the
// session writes them to a file, and the command's token carries only what the session attached.
import { ByteQueue } from './byte-queue.ts';

export type Token = AtomToken | StringToken | ListToken;

export interface AtomToken {
  kind: 'atom';
  value: string;
  /** BODY[…], BINARY[…]: the tokens between the brackets. */
  section?: Token[];
  /** <start.length> after a section. */
  partial?: { start: number; length?: number };
}

export interface StringToken {
  kind: 'string';
  value: Buffer;
  /** Arrived as a literal (RFC 9051 4.3), not quoted. */
  literal: boolean;
  /** Arrived as literal8 ~{n} (RFC 3516 BINARY APPEND): may hold NUL. */
  binary: boolean;
  /** An APPEND literal handed out in 'literal-data' events: value is empty, the bytes went there. */
  streamed?: StreamedLiteral;
}

/** A literal whose bytes the reader passed on as they came instead of holding them. */
export interface StreamedLiteral {
  readonly size: number;
  readonly binary: boolean;
  /** Whatever the session keeps for it (where it wrote the bytes), set at 'literal-start'. */
  sink: unknown;
}

export interface ListToken {
  kind: 'list';
  items: Token[];
}

export interface ParsedCommand {
  tag: string;
  /** Upper-cased; "UID FETCH" etc. are two words. */
  name: string;
  args: Token[];
}

export type ReaderEvent =
  | { kind: 'command'; command: ParsedCommand }
  /** A synchronizing literal was accepted: send a continuation request ("+ …"). */
  | { kind: 'continue' }
  /** An APPEND literal to be streamed begins (`continue`: send "+ …" first); 'literal-data' follow. */
  | { kind: 'literal-start'; literal: StreamedLiteral; continue: boolean }
  /** Bytes of the streamed literal, in order, until `size` have come. */
  | { kind: 'literal-data'; literal: StreamedLiteral; data: Buffer }
  /** In line mode (AUTHENTICATE, IDLE): one line without its CRLF. */
  | { kind: 'line'; line: Buffer }
  /** The command is refused; the session goes on. tag is absent when none could be read. */
  | { kind: 'reject'; tag?: string; status: 'BAD' | 'NO'; code?: string; text: string }
  /** The session must end (`* BYE`). */
  | { kind: 'fatal'; code?: string; text: string };

export interface ReaderLimits {
  maxLineBytes: number;
  /** Literals of commands other than APPEND. */
  maxLiteralBytes: number;
  /** Literals of APPEND: the message size limit (APPENDLIMIT). */
  maxAppendLiteralBytes: number;
  maxLiteralMinusBytes: number;
  /** Lines and literals of one command together. */
  maxCommandBytes: number;
  maxDiscardBytes: number;
  maxNestingDepth: number;
  maxTokens: number;
  /**
   * APPEND literals from this size on are streamed (see the top of the file), and so is any APPEND
   * literal that would make the command hold more than this in memory. Absent: never.
   */
  streamAppendLiteralBytes?: number;
}

/** Which non-synchronizing literals the server advertised (RFC 7888): none, LITERAL- or LITERAL+. */
export type LiteralMode = 'none' | 'minus' | 'plus';

interface Piece {
  line: Buffer;
  literal?: Buffer;
  streamed?: StreamedLiteral;
}

type State =
  | { name: 'line' }
  | { name: 'literal'; size: number }
  | { name: 'stream-literal'; literal: StreamedLiteral; left: number }
  | { name: 'discard-line' }
  | { name: 'discard-literal'; left: number };

// A literal marker ends its line: {n}, {n+}, ~{n}, ~{n+}. Twenty digits covers 2^64 and more:
// {4294967296} must parse to be refused, not wrap around.
const LITERAL_MARKER = /(~?)\{(\d{1,20})(\+?)\}$/;
const FIRST_WORDS = /^([^\s(){"\\]+) +([A-Za-z]+)/;
const EMPTY = Buffer.alloc(0);

export class CommandReader {
  private readonly input = new ByteQueue();
  private state: State = { name: 'line' };
  private pieces: Piece[] = [];
  private commandBytes = 0;
  /** Literal bytes of this command held in memory (not streamed). */
  private heldBytes = 0;
  private commandName = '';
  private tag: string | undefined;
  /** The refusal to send once the rest of a command being dropped has gone by. */
  private pendingReject: Extract<ReaderEvent, { kind: 'reject' }> | undefined;
  private discardTail = '';
  private discarded = 0;
  /** Next event is a raw line (set by the session for AUTHENTICATE and IDLE). */
  lineMode = false;
  literalMode: LiteralMode;

  private readonly limits: ReaderLimits;

  constructor(limits: ReaderLimits, literalMode: LiteralMode = 'plus') {
    this.limits = limits;
    this.literalMode = literalMode;
  }

  push(chunk: Buffer): void {
    this.input.push(chunk);
  }

  /** Bytes received and not yet parsed (for back-pressure). */
  get buffered(): number {
    return this.input.size;
  }

  /**
   * Everything received and not yet read, taken out of the reader: what a client sent behind a
   * command after which the bytes are someone else's (the MMP hands them to the store after login).
   */
  takeUnread(): Buffer {
    return this.input.size === 0 ? Buffer.alloc(0) : this.input.take(this.input.size);
  }

  /** The next event, or undefined when more input is needed. */
  next(): ReaderEvent | undefined {
    for (;;) {
      const state = this.state;
      switch (state.name) {
        case 'line': {
          const event = this.readLine();
          if (event === 'more') return undefined;
          if (event === 'again') continue;
          return event;
        }
        case 'literal': {
          if (this.input.size < state.size) return undefined;
          const data = this.input.take(state.size);
          const last = this.pieces[this.pieces.length - 1]!;
          last.literal = data;
          this.state = { name: 'line' };
          continue;
        }
        case 'stream-literal': {
          if (state.left === 0) {
            this.state = { name: 'line' };
            continue;
          }
          if (this.input.size === 0) return undefined;
          const data = this.input.takeFirst(state.left);
          state.left -= data.length;
          return { kind: 'literal-data', literal: state.literal, data };
        }
        case 'discard-literal': {
          const dropped = this.input.drop(state.left);
          state.left -= dropped;
          if (state.left > 0) return undefined;
          this.state = { name: 'discard-line' };
          this.discardTail = '';
          continue;
        }
        case 'discard-line': {
          const event = this.discardLine();
          if (event === 'more') return undefined;
          if (event) return event;
          continue;
        }
      }
    }
  }

  private readLine(): ReaderEvent | 'more' | 'again' {
    const limit = this.limits.maxLineBytes + 2;
    const lf = this.input.indexOfLF(limit);
    if (lf < 0) {
      if (this.input.size < limit) return 'more';
      // Too long: read what tag we can, then drop the rest of the line as it comes.
      const head = this.input.take(Math.min(this.input.size, 256)).toString('latin1');
      if (this.lineMode) {
        this.lineMode = false;
        this.state = { name: 'discard-line' };
        this.discardTail = '';
        this.pendingReject = { kind: 'reject', status: 'BAD', text: 'Line too long' };
        return 'again';
      }
      const tag = this.tag ?? FIRST_WORDS.exec(head)?.[1];
      this.state = { name: 'discard-line' };
      this.discardTail = head.slice(-32);
      this.pendingReject = {
        kind: 'reject',
        status: 'BAD',
        ...(tag ? { tag } : {}),
        text: `Command line too long (over ${this.limits.maxLineBytes} bytes)`,
      };
      return 'again';
    }
    const raw = this.input.take(lf + 1);
    const line = raw.subarray(0, raw.length - (raw.length >= 2 && raw[raw.length - 2] === 0x0d ? 2 : 1));
    if (this.lineMode) {
      this.lineMode = false;
      return { kind: 'line', line };
    }
    if (this.pieces.length === 0) {
      if (line.length === 0) return 'more'; // an empty line between commands: ignore, as Dovecot does
      const words = FIRST_WORDS.exec(line.toString('latin1'));
      this.tag = words?.[1];
      this.commandName = (words?.[2] ?? '').toUpperCase();
      this.commandBytes = 0;
    }
    this.commandBytes += line.length + 2;
    this.pieces.push({ line });
    const marker = LITERAL_MARKER.exec(line.toString('latin1').slice(-24));
    if (!marker) return this.finishCommand();
    return this.startLiteral(Number(marker[2]), marker[3] === '+');
  }

  private startLiteral(size: number, nonSync: boolean): ReaderEvent | 'again' {
    const append = this.commandName === 'APPEND';
    const limit = append ? this.limits.maxAppendLiteralBytes : this.limits.maxLiteralBytes;
    const tag = this.tag;
    let refusal: Extract<ReaderEvent, { kind: 'reject' }> | undefined;
    if (nonSync && this.literalMode === 'none') {
      refusal = reject(tag, 'BAD', undefined, 'Non-synchronizing literals are not supported');
    } else if (nonSync && this.literalMode === 'minus' && size > this.limits.maxLiteralMinusBytes) {
      // RFC 7888 section 4: LITERAL- allows at most 4096 octets without waiting.
      refusal = reject(tag, 'BAD', 'TOOBIG', 'Non-synchronizing literal over 4096 octets');
    } else if (size > limit || this.commandBytes + size > this.limits.maxCommandBytes) {
      refusal = append
        ? reject(tag, 'NO', 'TOOBIG', `Message over the limit of ${limit} bytes`)
        : reject(tag, 'BAD', 'TOOBIG', `Literal over the limit of ${limit} bytes`);
    }
    if (refusal) {
      this.resetCommand();
      if (!nonSync) return refusal; // the client waits for "+" and will not send the bytes
      if (size > this.limits.maxDiscardBytes) {
        return { kind: 'fatal', code: 'TOOBIG', text: 'Literal too large, closing' };
      }
      this.pendingReject = refusal;
      this.state = { name: 'discard-literal', left: size };
      return 'again';
    }
    this.commandBytes += size;
    const streamFrom = this.limits.streamAppendLiteralBytes;
    if (append && streamFrom !== undefined && (size >= streamFrom || this.heldBytes + size > streamFrom)) {
      const literal: StreamedLiteral = { size, binary: this.literalIsBinary(), sink: undefined };
      this.pieces[this.pieces.length - 1]!.streamed = literal;
      this.state = { name: 'stream-literal', literal, left: size };
      return { kind: 'literal-start', literal, continue: !nonSync };
    }
    this.heldBytes += size;
    this.state = { name: 'literal', size };
    if (!nonSync) return { kind: 'continue' };
    return 'again';
  }

  /** Drops bytes up to the end of the line (and any literal it announces); then the refusal. */
  private discardLine(): ReaderEvent | undefined | 'more' {
    const keep = 32; // enough to see a literal marker at the end of the dropped line
    const lf = this.input.indexOfLF(this.input.size);
    if (lf < 0) {
      const excess = this.input.size - keep;
      if (excess > 0) {
        this.discardTail = '';
        this.input.drop(excess);
        this.discarded += excess;
      }
      if (this.discarded > this.limits.maxDiscardBytes) {
        return { kind: 'fatal', text: 'Too much unparseable input, closing' };
      }
      return 'more';
    }
    const skip = Math.max(0, lf + 1 - keep);
    this.input.drop(skip);
    const tail = (skip > 0 ? '' : this.discardTail) + this.input.take(lf + 1 - skip).toString('latin1');
    this.discardTail = '';
    this.discarded = 0;
    const marker = LITERAL_MARKER.exec(tail.replace(/\r?\n$/, ''));
    if (marker && marker[3] === '+') {
      this.state = { name: 'discard-literal', left: Number(marker[2]) };
      return undefined;
    }
    this.state = { name: 'line' };
    const event = this.pendingReject;
    this.pendingReject = undefined;
    this.resetCommand();
    return event;
  }

  private finishCommand(): ReaderEvent {
    const pieces = this.pieces;
    const tag = this.tag;
    this.resetCommand();
    try {
      const tokens = tokenize(pieces, this.limits);
      const [tagToken, nameToken, ...rest] = tokens;
      if (!tagToken || tagToken.kind !== 'atom' || !isValidTag(tagToken.value)) {
        return reject(undefined, 'BAD', undefined, 'Missing or invalid tag');
      }
      if (!nameToken || nameToken.kind !== 'atom' || !/^[A-Za-z]+$/.test(nameToken.value)) {
        return reject(tagToken.value, 'BAD', undefined, 'Missing or invalid command name');
      }
      let name = nameToken.value.toUpperCase();
      let args = rest;
      if (name === 'UID' && args[0]?.kind === 'atom' && /^[A-Za-z]+$/.test(args[0].value)) {
        name = `UID ${args[0].value.toUpperCase()}`;
        args = args.slice(1);
      }
      return { kind: 'command', command: { tag: tagToken.value, name, args } };
    } catch (error) {
      if (error instanceof SyntaxFault) {
        return reject(tag && isValidTag(tag) ? tag : undefined, 'BAD', undefined, error.message);
      }
      throw error;
    }
  }

  /** The marker ending the current line is literal8 (~{n}). */
  private literalIsBinary(): boolean {
    const line = this.pieces[this.pieces.length - 1]!.line.toString('latin1');
    return /~\{\d+\+?\}$/.test(line);
  }

  private resetCommand(): void {
    this.pieces = [];
    this.commandBytes = 0;
    this.heldBytes = 0;
    this.commandName = '';
    this.tag = undefined;
  }
}

function reject(
  tag: string | undefined,
  status: 'BAD' | 'NO',
  code: string | undefined,
  text: string,
): Extract<ReaderEvent, { kind: 'reject' }> {
  return { kind: 'reject', status, text, ...(tag ? { tag } : {}), ...(code ? { code } : {}) };
}

/** RFC 9051: tag = 1*<any ASTRING-CHAR except "+">. */
export function isValidTag(tag: string): boolean {
  return /^[\x21\x23\x24\x26\x27\x2c-\x5b\x5d-\x7a\x7c\x7e]+$/.test(tag) && tag.length <= 64;
}

export class SyntaxFault extends Error {}

const SECTION_ATOMS = new Set(['BODY', 'BODY.PEEK', 'BINARY', 'BINARY.PEEK', 'BINARY.SIZE']);

/** Turns a command's lines and literals into tokens. Exported for tests. */
export function tokenize(
  pieces: readonly Piece[],
  limits: Pick<ReaderLimits, 'maxNestingDepth' | 'maxTokens'>,
): Token[] {
  const root: Token[] = [];
  const stack: Token[][] = [root];
  let count = 0;
  const add = (token: Token) => {
    if (++count > limits.maxTokens) throw new SyntaxFault('Too many arguments');
    stack[stack.length - 1]!.push(token);
  };

  for (const piece of pieces) {
    const line = piece.line;
    let i = 0;
    while (i < line.length) {
      const c = line[i]!;
      if (c === 0x20) {
        i++;
      } else if (c === 0x28) {
        // "("
        if (stack.length > limits.maxNestingDepth) throw new SyntaxFault('Too deeply nested');
        const list: ListToken = { kind: 'list', items: [] };
        add(list);
        stack.push(list.items);
        i++;
      } else if (c === 0x29) {
        if (stack.length === 1) throw new SyntaxFault('Unexpected ")"');
        stack.pop();
        i++;
      } else if (c === 0x22) {
        const [value, end] = readQuoted(line, i);
        add({ kind: 'string', value, literal: false, binary: false });
        i = end;
      } else if (c === 0x7b || (c === 0x7e && line[i + 1] === 0x7b)) {
        // "{" or "~{": must be the marker at the end of this piece
        const rest = line.subarray(i).toString('latin1');
        if (!/^~?\{\d{1,20}\+?\}$/.test(rest) || (piece.literal === undefined && !piece.streamed)) {
          throw new SyntaxFault('Invalid literal');
        }
        add({
          kind: 'string',
          value: piece.literal ?? EMPTY,
          literal: true,
          binary: c === 0x7e,
          ...(piece.streamed ? { streamed: piece.streamed } : {}),
        });
        i = line.length;
      } else {
        const [token, end] = readAtom(line, i, limits);
        add(token);
        i = end;
      }
    }
  }
  if (stack.length !== 1) throw new SyntaxFault('Unbalanced parentheses');
  return root;
}

function readQuoted(line: Buffer, start: number): [Buffer, number] {
  const bytes: number[] = [];
  let i = start + 1;
  while (i < line.length) {
    const c = line[i]!;
    if (c === 0x22) return [Buffer.from(bytes), i + 1];
    if (c === 0x5c) {
      const next = line[i + 1];
      if (next !== 0x22 && next !== 0x5c) throw new SyntaxFault('Invalid escape in quoted string');
      bytes.push(next);
      i += 2;
      continue;
    }
    if (c === 0) throw new SyntaxFault('NUL in quoted string');
    bytes.push(c);
    i++;
  }
  throw new SyntaxFault('Unterminated quoted string');
}

function isAtomEnd(c: number, inSection: boolean): boolean {
  return (
    c === 0x20 ||
    c === 0x28 ||
    c === 0x29 ||
    c === 0x22 ||
    c < 0x20 ||
    c === 0x7f ||
    (inSection && c === 0x5d)
  );
}

function readAtom(
  line: Buffer,
  start: number,
  limits: Pick<ReaderLimits, 'maxNestingDepth' | 'maxTokens'>,
  inSection = false,
): [AtomToken, number] {
  let i = start;
  while (i < line.length && !isAtomEnd(line[i]!, inSection)) {
    if (line[i] === 0x5b && SECTION_ATOMS.has(line.subarray(start, i).toString('latin1').toUpperCase()))
      break;
    i++;
  }
  if (i === start) throw new SyntaxFault(`Unexpected character "${String.fromCharCode(line[i]!)}"`);
  const token: AtomToken = { kind: 'atom', value: line.subarray(start, i).toString('utf8') };
  if (line[i] !== 0x5b) return [token, i];

  // BODY[section]<partial>: the section is read as tokens of its own, up to "]".
  const close = findSectionEnd(line, i + 1);
  const inner = line.subarray(i + 1, close);
  token.section = tokenizeSection(inner, limits);
  i = close + 1;
  if (line[i] === 0x3c) {
    const end = line.indexOf(0x3e, i);
    const partial =
      end > 0 ? /^<(\d{1,10})(?:\.(\d{1,10}))?>$/.exec(line.subarray(i, end + 1).toString('latin1')) : null;
    if (!partial) throw new SyntaxFault('Invalid partial range');
    token.partial = {
      start: Number(partial[1]),
      ...(partial[2] !== undefined ? { length: Number(partial[2]) } : {}),
    };
    i = end + 1;
  }
  return [token, i];
}

function findSectionEnd(line: Buffer, from: number): number {
  let inQuote = false;
  for (let i = from; i < line.length; i++) {
    const c = line[i]!;
    if (inQuote) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inQuote = false;
    } else if (c === 0x22) inQuote = true;
    else if (c === 0x5d) return i;
  }
  throw new SyntaxFault('Unterminated section "["');
}

function tokenizeSection(
  inner: Buffer,
  limits: Pick<ReaderLimits, 'maxNestingDepth' | 'maxTokens'>,
): Token[] {
  return tokenize([{ line: inner }], limits);
}
