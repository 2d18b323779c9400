// The IMAP response encoder: values in, bytes out (RFC 9051 section 7, RFC 3501 section 9). A JS
// string or Buffer is an IMAP string, sent quoted when it can be and as a literal when it must
// (CR, LF, NUL, 8-bit without UTF8=ACCEPT, or long); atoms, NIL, numbers and lists say what they are.

export type ImapValue =
  string | Buffer | number | bigint | null | Atom | Literal8 | Raw | Adjacent | readonly ImapValue[];

/** An atom or flag, sent as is: \Seen, FLAGS, INBOX in a response code. */
export class Atom {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
}

/** A literal8 (RFC 3516 ~{n}) for BINARY[] content that holds NUL. */
export class Literal8 {
  readonly value: Buffer;
  constructor(value: Buffer) {
    this.value = value;
  }
}

/** Bytes already in IMAP syntax, such as a FETCH item name "BODY[1.HEADER]<0>". */
export class Raw {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
}

/**
 * Values written one after another without spaces: the grammar's "1*body" in a multipart
 * BODYSTRUCTURE and "1*address" in an ENVELOPE (RFC 9051 9). `parens` wraps them in ( ).
 */
export class Adjacent {
  readonly items: readonly ImapValue[];
  readonly parens: boolean;
  constructor(items: readonly ImapValue[], parens: boolean) {
    this.items = items;
    this.parens = parens;
  }
}

export const adjacent = (items: readonly ImapValue[], parens = false) => new Adjacent(items, parens);
export const atom = (value: string) => new Atom(value);
export const raw = (value: string) => new Raw(value);
export const literal8 = (value: Buffer) => new Literal8(value);

export interface EncodeOptions {
  /** RFC 6855 UTF8=ACCEPT enabled: UTF-8 may be sent in quoted strings. */
  utf8?: boolean;
}

// Strings longer than this go as literals: quoting costs a scan and escapes, literals a length.
const MAX_QUOTED = 1024;

export function encodeValue(value: ImapValue, out: Buffer[], options: EncodeOptions = {}): void {
  if (value === null) {
    out.push(NIL);
  } else if (typeof value === 'number' || typeof value === 'bigint') {
    out.push(Buffer.from(String(value)));
  } else if (typeof value === 'string') {
    encodeString(Buffer.from(value, 'utf8'), out, options);
  } else if (Buffer.isBuffer(value)) {
    encodeString(value, out, options);
  } else if (value instanceof Atom || value instanceof Raw) {
    out.push(Buffer.from(value.value, 'utf8'));
  } else if (value instanceof Adjacent) {
    if (value.parens) out.push(OPEN);
    for (const item of value.items) encodeValue(item, out, options);
    if (value.parens) out.push(CLOSE);
  } else if (value instanceof Literal8) {
    out.push(Buffer.from(`~{${value.value.length}}\r\n`), value.value);
  } else {
    out.push(OPEN);
    value.forEach((item, i) => {
      if (i > 0) out.push(SPACE);
      encodeValue(item, out, options);
    });
    out.push(CLOSE);
  }
}

function encodeString(bytes: Buffer, out: Buffer[], options: EncodeOptions): void {
  if (canQuote(bytes, options)) {
    const escaped = bytes.includes(0x22) || bytes.includes(0x5c);
    out.push(QUOTE, escaped ? Buffer.from(bytes.toString('utf8').replace(/(["\\])/g, '\\$1')) : bytes, QUOTE);
  } else {
    out.push(Buffer.from(`{${bytes.length}}\r\n`), bytes);
  }
}

function canQuote(bytes: Buffer, options: EncodeOptions): boolean {
  if (bytes.length > MAX_QUOTED) return false;
  for (const c of bytes) {
    if (c === 0x0d || c === 0x0a || c === 0) return false;
    if (c >= 0x80 && !options.utf8) return false;
  }
  if (options.utf8 && bytes.some((c) => c >= 0x80)) {
    // Quoted UTF-8 must be valid UTF-8 (RFC 6855 section 3); anything else goes as a literal.
    return Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes);
  }
  return true;
}

/** One response line: values separated by spaces, CRLF at the end. */
export function encodeLine(values: readonly ImapValue[], options: EncodeOptions = {}): Buffer {
  const out: Buffer[] = [];
  values.forEach((value, i) => {
    if (i > 0) out.push(SPACE);
    encodeValue(value, out, options);
  });
  out.push(CRLF);
  return Buffer.concat(out);
}

export type Status = 'OK' | 'NO' | 'BAD' | 'BYE' | 'PREAUTH';

/** A status response: "tag OK [CODE args] text". Free text is sent as is (it is resp-text). */
export function encodeStatus(tag: string, status: Status, text: string, code?: string): Buffer {
  const clean = text.replace(/[\r\n]+/g, ' ');
  return Buffer.from(`${tag} ${status} ${code ? `[${code}] ` : ''}${clean}\r\n`, 'utf8');
}

const NIL = Buffer.from('NIL');
const OPEN = Buffer.from('(');
const CLOSE = Buffer.from(')');
const SPACE = Buffer.from(' ');
const QUOTE = Buffer.from('"');
const CRLF = Buffer.from('\r\n');
