// The SEARCH evaluator: does a message match a key tree. Keys on the index (flags, sizes, dates,
// UIDs, MODSEQ) cost nothing; keys on content load the header or the message only when reached, and
// AND/OR stop early, so "UNSEEN SUBJECT x" reads only unseen messages. Text matches are
// case-insensitive substrings of the decoded text (RFC 9051 6.4.4): encoded words are decoded
// (libmime), bodies have their transfer encoding and charset undone.
import libmime from 'libmime';
import type { MessageMeta } from '../../mailbox/api.ts';
import { setContains } from '../protocol/sequence-set.ts';
import { fieldsNamed, fieldValue, splitHeaderFields, type HeaderField } from '../message/header-fields.ts';
import type { MessageTree, MimePart } from '../message/mime-tree.ts';
import { decodeTransferEncoding } from '../message/sections.ts';
import type { SearchKey } from './search-key.ts';
import { imapLimits } from '../../limits.ts';

export interface SearchCandidate {
  seq: number;
  meta: MessageMeta;
}

/** Loads a message's content, once per candidate, when a key needs it. */
export interface SearchContent {
  /**
   * Names the message for as long as its bytes stay the same (user, mailbox, UIDVALIDITY, UID), so
   * what SEARCH derived from them can be kept across commands and sessions; none: nothing kept.
   */
  readonly key?: string;
  header(): Promise<Buffer>;
  message(): Promise<Buffer>;
  tree(): Promise<MessageTree>;
}

export interface SearchScope {
  largestSeq: number;
  largestUid: number;
  /** For OLDER/YOUNGER. */
  now: number;
  /** SEARCHRES's "$": the UIDs of the saved result. */
  saved?: ReadonlySet<number>;
}

export async function matches(
  key: SearchKey,
  c: SearchCandidate,
  content: SearchContent,
  scope: SearchScope,
): Promise<boolean> {
  switch (key.op) {
    case 'all':
      return true;
    case 'and':
      // Cheap keys first: a key that needs no content decides without loading any.
      for (const k of [...key.keys].sort((a, b) => cost(a) - cost(b))) {
        if (!(await matches(k, c, content, scope))) return false;
      }
      return true;
    case 'or': {
      const [first, second] = cost(key.a) <= cost(key.b) ? [key.a, key.b] : [key.b, key.a];
      return (await matches(first, c, content, scope)) || matches(second, c, content, scope);
    }
    case 'not':
      return !(await matches(key.key, c, content, scope));
    case 'flag':
      return hasFlag(c.meta.flags, key.flag) === key.set;
    case 'new':
      return c.meta.recent && !hasFlag(c.meta.flags, '\\Seen');
    case 'old':
      return !c.meta.recent;
    case 'recent':
      return c.meta.recent;
    case 'seq':
      return setContains(key.set, c.seq, scope.largestSeq);
    case 'uid':
      return setContains(key.set, c.meta.uid, scope.largestUid);
    case 'saved':
      return scope.saved?.has(c.meta.uid) ?? false;
    case 'size':
      return key.cmp === 'larger' ? c.meta.size > key.octets : c.meta.size < key.octets;
    case 'age': {
      const age = (scope.now - c.meta.internalDate) / 1000;
      return key.cmp === 'older' ? age >= key.seconds : age <= key.seconds;
    }
    case 'modseq':
      return c.meta.modseq >= key.modseq;
    case 'date': {
      const day =
        key.field === 'internal' ? utcDay(c.meta.internalDate) : sentDay(await headerFields(content));
      if (day === undefined) return false;
      return key.cmp === 'before' ? day < key.day : key.cmp === 'on' ? day === key.day : day >= key.day;
    }
    case 'header': {
      const values = await foldedValues(content, key.name);
      // HEADER name "" matches every message that has the field (RFC 9051 6.4.4).
      if (key.text === '') return values.length > 0;
      const needle = fold(key.text);
      return values.some((v) => v.includes(needle));
    }
    case 'body':
    case 'text': {
      const needle = fold(key.text);
      if (key.op === 'text') {
        const header = (await headerFields(content)).map((f) => decodeHeaderText(fieldValue(f))).join('\n');
        if (fold(header).includes(needle)) return true;
      }
      const message = await content.message();
      const tree = await content.tree();
      return bodyTexts(tree.root, message).some((text) => fold(text).includes(needle));
    }
  }
}

/** The keys a SEARCH needs content for: used to order AND/OR and to skip loading. */
function cost(key: SearchKey): number {
  switch (key.op) {
    case 'and':
      return Math.max(0, ...key.keys.map(cost));
    case 'or':
      return Math.max(cost(key.a), cost(key.b));
    case 'not':
      return cost(key.key);
    case 'header':
      return 1;
    case 'date':
      return key.field === 'sent' ? 1 : 0;
    case 'body':
    case 'text':
      return 2;
    default:
      return 0;
  }
}

/** Keyed by SearchContent.key and field name; oldest out first past the limit. */
const valuesCache = new Map<string, readonly string[]>();

/** A header field's values, decoded and case-folded, as a key on it matches them. */
async function foldedValues(content: SearchContent, name: string): Promise<readonly string[]> {
  const cacheKey = content.key === undefined ? undefined : `${content.key}\0${name}`;
  const known = cacheKey === undefined ? undefined : valuesCache.get(cacheKey);
  if (known) return known;
  const values = fieldsNamed(await headerBlock(content), name).map((f) =>
    fold(decodeHeaderText(fieldValue(f))),
  );
  // Only short values are kept, so the cache's bound in entries is a bound in bytes too: a message
  // with a huge Subject is searched from its file each time.
  if (
    cacheKey !== undefined &&
    values.reduce((n, v) => n + v.length, 0) <= imapLimits.searchHeaderValueChars
  ) {
    valuesCache.set(cacheKey, values);
    if (valuesCache.size > imapLimits.searchHeaderValues)
      valuesCache.delete(valuesCache.keys().next().value!);
  }
  return values;
}

const blockCache = new WeakMap<SearchContent, Promise<Buffer>>();
const fieldsCache = new WeakMap<SearchContent, Promise<HeaderField[]>>();

/** The header block, loaded once per candidate whatever the number of header keys. */
function headerBlock(content: SearchContent): Promise<Buffer> {
  let block = blockCache.get(content);
  if (!block) {
    block = content.header();
    blockCache.set(content, block);
  }
  return block;
}

function headerFields(content: SearchContent): Promise<HeaderField[]> {
  let fields = fieldsCache.get(content);
  if (!fields) {
    fields = headerBlock(content).then(splitHeaderFields);
    fieldsCache.set(content, fields);
  }
  return fields;
}

export function hasFlag(flags: readonly string[], flag: string): boolean {
  const wanted = flag.toLowerCase();
  return flags.some((f) => f.toLowerCase() === wanted);
}

/** Case folding for matching: Unicode lowercase, as Dovecot's i;unicode-casemap does in essence. */
function fold(text: string): string {
  return text.normalize('NFC').toLowerCase();
}

export function decodeHeaderText(value: string): string {
  if (!value.includes('=?')) return value; // no encoded word (RFC 2047): most header text
  try {
    return libmime.decodeWords(value);
  } catch {
    return value;
  }
}

function utcDay(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** The calendar day written in the Date: header, in the sender's own time zone (RFC 9051 6.4.4). */
export function sentDay(fields: readonly HeaderField[]): number | undefined {
  const field = fields.find((f) => f.name === 'date');
  if (!field) return undefined;
  const value = fieldValue(field);
  const m = /(\d{1,2})\s+([A-Za-z]{3})[a-z]*\s+(\d{2,4})/.exec(value);
  if (m) {
    const month = MONTHS.indexOf(m[2]!.toLowerCase());
    let year = Number(m[3]);
    if (year < 100) year += year < 50 ? 2000 : 1900; // RFC 5322 4.3 obsolete two-digit years
    if (month >= 0) return Date.UTC(year, month, Number(m[1]));
  }
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? undefined : utcDay(parsed);
}

/** The decoded text of every text/* part, embedded messages' included. */
export function bodyTexts(part: MimePart, message: Buffer): string[] {
  if (part.children) return part.children.flatMap((child) => bodyTexts(child, message));
  if (part.message) return bodyTexts(part.message, message);
  if (part.type !== 'text') return [];
  let bytes: Buffer;
  try {
    bytes = decodeTransferEncoding(part, message.subarray(part.bodyStart, part.end));
  } catch {
    bytes = message.subarray(part.bodyStart, part.end);
  }
  return [decodeCharset(bytes, part.params.find(([k]) => k === 'charset')?.[1])];
}

export function decodeCharset(bytes: Buffer, charset: string | undefined): string {
  try {
    return new TextDecoder(charset && charset.toLowerCase() !== 'us-ascii' ? charset : 'utf-8').decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}
