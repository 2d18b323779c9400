// The fields of a header block as they are on the wire, for BODY[HEADER.FIELDS (…)] (which must
// return the chosen lines byte for byte, RFC 9051 6.4.5), SEARCH HEADER and ENVELOPE.

export interface HeaderField {
  /** Lowercased field name. */
  name: string;
  /** The field's bytes, its CRLF and continuation lines included. */
  raw: Buffer;
}

/** Splits a header block (up to and including the blank line, if any) into fields. */
export function splitHeaderFields(block: Buffer): HeaderField[] {
  const fields: HeaderField[] = [];
  let start = 0;
  let i = 0;
  while (i < block.length) {
    const lf = block.indexOf(0x0a, i);
    const lineEnd = lf < 0 ? block.length : lf + 1;
    const blank = lineEnd - i <= 2 && (block[i] === 0x0d || block[i] === 0x0a);
    if (blank) break;
    const next = block[lineEnd];
    if (next !== 0x20 && next !== 0x09) {
      const raw = block.subarray(start, lineEnd);
      const colon = raw.indexOf(0x3a);
      if (colon > 0)
        fields.push({ name: raw.subarray(0, colon).toString('latin1').trim().toLowerCase(), raw });
      start = lineEnd;
    }
    i = lineEnd;
  }
  return fields;
}

/**
 * The fields named `name` (lowercase), as splitHeaderFields would return them, without making a
 * field of every other line: SEARCH SUBJECT over a mailbox asks this of every message's header.
 */
export function fieldsNamed(block: Buffer, name: string): HeaderField[] {
  if (name === '') return splitHeaderFields(block).filter((f) => f.name === '');
  const fields: HeaderField[] = [];
  const text = block.toString('latin1'); // one character per byte: offsets stay byte offsets
  const lower = text.toLowerCase();
  let i = 0;
  while (i < text.length) {
    const lf = text.indexOf('\n', i);
    const lineEnd = lf < 0 ? text.length : lf + 1;
    if (lineEnd - i <= 2 && (text[i] === '\r' || text[i] === '\n')) break; // the blank line
    // A field's first line (continuations start with SP or HT) that starts with the name.
    if (text[i] !== ' ' && text[i] !== '\t' && lower.startsWith(name, i)) {
      let at = i + name.length;
      while (text[at] === ' ' || text[at] === '\t') at++;
      if (text[at] === ':') {
        let end = lineEnd;
        while (end < text.length && (text[end] === ' ' || text[end] === '\t')) {
          const next = text.indexOf('\n', end);
          end = next < 0 ? text.length : next + 1;
        }
        fields.push({ name, raw: block.subarray(i, end) });
        i = end;
        continue;
      }
    }
    i = lineEnd;
  }
  return fields;
}

/** The field's value, unfolded and trimmed, as UTF-8 text (encoded words left as they are). */
export function fieldValue(field: HeaderField): string {
  const text = field.raw.toString('utf8');
  return text
    .slice(text.indexOf(':') + 1)
    .replace(/\r?\n(?=[ \t])/g, '')
    .replace(/\r?\n$/, '')
    .trim();
}

export function firstValue(fields: readonly HeaderField[], name: string): string | undefined {
  const field = fields.find((f) => f.name === name);
  return field ? fieldValue(field) : undefined;
}

/** HEADER.FIELDS / HEADER.FIELDS.NOT: the chosen fields in message order, then the blank line. */
export function selectHeaderFields(block: Buffer, names: readonly string[], not: boolean): Buffer {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const chosen = splitHeaderFields(block).filter((f) => wanted.has(f.name) !== not);
  return Buffer.concat([...chosen.map((f) => f.raw), Buffer.from('\r\n')]);
}
