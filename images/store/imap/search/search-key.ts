// SEARCH keys (RFC 9051 6.4.4, RFC 3501 6.4.4, RFC 7162 3.1.5 MODSEQ, RFC 5032 OLDER/YOUNGER):
// the parser from generic tokens into a key tree. The evaluator is in evaluate-search.ts.
import type { Token } from '../../../lib/imap/command-reader.ts';
import { parseSequenceSet, type SequenceSet } from '../protocol/sequence-set.ts';
import { imapLimits } from '../../limits.ts';

export type SearchKey =
  | { op: 'all' }
  | { op: 'and'; keys: SearchKey[] }
  | { op: 'or'; a: SearchKey; b: SearchKey }
  | { op: 'not'; key: SearchKey }
  | { op: 'flag'; flag: string; set: boolean }
  | { op: 'new' | 'old' | 'recent' }
  | { op: 'seq'; set: SequenceSet }
  /** "$" (RFC 5182): the saved result. */
  | { op: 'saved' }
  | { op: 'uid'; set: SequenceSet }
  /** Internal date (BEFORE, ON, SINCE) or Date: header (SENT*), compared by calendar day. */
  | { op: 'date'; field: 'internal' | 'sent'; cmp: 'before' | 'on' | 'since'; day: number }
  /** OLDER / YOUNGER n seconds (RFC 5032). */
  | { op: 'age'; cmp: 'older' | 'younger'; seconds: number }
  | { op: 'size'; cmp: 'larger' | 'smaller'; octets: number }
  /** A header field contains the text (FROM, TO, CC, BCC, SUBJECT, HEADER name). */
  | { op: 'header'; name: string; text: string }
  | { op: 'body' | 'text'; text: string }
  | { op: 'modseq'; modseq: number };

export class SearchSyntaxError extends Error {}

const FLAG_KEYS: Record<string, [string, boolean]> = {
  ANSWERED: ['\\Answered', true],
  DELETED: ['\\Deleted', true],
  DRAFT: ['\\Draft', true],
  FLAGGED: ['\\Flagged', true],
  SEEN: ['\\Seen', true],
  UNANSWERED: ['\\Answered', false],
  UNDELETED: ['\\Deleted', false],
  UNDRAFT: ['\\Draft', false],
  UNFLAGGED: ['\\Flagged', false],
  UNSEEN: ['\\Seen', false],
};

const HEADER_KEYS: Record<string, string> = {
  FROM: 'from',
  TO: 'to',
  CC: 'cc',
  BCC: 'bcc',
  SUBJECT: 'subject',
};
const DATE_KEYS: Record<string, ['internal' | 'sent', 'before' | 'on' | 'since']> = {
  BEFORE: ['internal', 'before'],
  ON: ['internal', 'on'],
  SINCE: ['internal', 'since'],
  SENTBEFORE: ['sent', 'before'],
  SENTON: ['sent', 'on'],
  SENTSINCE: ['sent', 'since'],
};
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** Parses the keys of a SEARCH (after RETURN and CHARSET); several keys are an AND. */
export function parseSearchKeys(tokens: readonly Token[], depth = 0): SearchKey {
  if (tokens.length === 0) throw new SearchSyntaxError('Missing search keys');
  const reader = { tokens, i: 0, depth };
  const keys: SearchKey[] = [];
  while (reader.i < tokens.length) keys.push(readKey(reader));
  return keys.length === 1 ? keys[0]! : { op: 'and', keys };
}

interface Reader {
  tokens: readonly Token[];
  i: number;
  /** NOT, OR and parentheses nest keys; the evaluator recurses as deep, so it is bounded. */
  depth: number;
}

function readKey(r: Reader): SearchKey {
  const token = r.tokens[r.i++];
  if (!token) throw new SearchSyntaxError('Missing search key');
  if (r.depth > imapLimits.maxNestingDepth) throw new SearchSyntaxError('Search keys nested too deeply');
  if (token.kind === 'list') {
    if (token.items.length === 0) throw new SearchSyntaxError('Empty parenthesized search key');
    return parseSearchKeys(token.items, r.depth + 1);
  }
  if (token.kind === 'string') throw new SearchSyntaxError('A search key must be an atom');
  const word = token.value.toUpperCase();
  const flag = FLAG_KEYS[word];
  if (flag) return { op: 'flag', flag: flag[0], set: flag[1] };
  const header = HEADER_KEYS[word];
  if (header) return { op: 'header', name: header, text: readText(r) };
  const date = DATE_KEYS[word];
  if (date) return { op: 'date', field: date[0], cmp: date[1], day: readDate(r) };
  switch (word) {
    case 'ALL':
      return { op: 'all' };
    case 'NEW':
      return { op: 'new' };
    case 'OLD':
      return { op: 'old' };
    case 'RECENT':
      return { op: 'recent' };
    case 'KEYWORD':
    case 'UNKEYWORD':
      return { op: 'flag', flag: readAtom(r), set: word === 'KEYWORD' };
    case 'LARGER':
    case 'SMALLER':
      return { op: 'size', cmp: word === 'LARGER' ? 'larger' : 'smaller', octets: readNumber(r) };
    case 'OLDER':
    case 'YOUNGER':
      return { op: 'age', cmp: word === 'OLDER' ? 'older' : 'younger', seconds: readNumber(r) };
    case 'HEADER': {
      const name = readText(r).toLowerCase();
      return { op: 'header', name, text: readText(r) };
    }
    case 'BODY':
      return { op: 'body', text: readText(r) };
    case 'TEXT':
      return { op: 'text', text: readText(r) };
    case 'NOT':
      return { op: 'not', key: nested(r) };
    case 'OR': {
      const a = nested(r);
      return { op: 'or', a, b: nested(r) };
    }
    case '$':
      return { op: 'saved' };
    case 'UID': {
      const text = readAtom(r);
      if (text === '$') return { op: 'saved' };
      const set = parseSequenceSet(text);
      if (!set) throw new SearchSyntaxError('Invalid UID set');
      return { op: 'uid', set };
    }
    case 'MODSEQ': {
      // RFC 7162 3.1.5: MODSEQ [entry-name entry-type-req] mod-sequence-valzer; the entry is ignored.
      const next = r.tokens[r.i];
      if (next && next.kind === 'string') r.i += 2;
      return { op: 'modseq', modseq: readNumber(r) };
    }
    default: {
      const set = /^[\d:*,]+$/.test(token.value) ? parseSequenceSet(token.value) : undefined;
      if (set) return { op: 'seq', set };
      throw new SearchSyntaxError(`Unknown search key ${token.value.slice(0, 40)}`);
    }
  }
}

function nested(r: Reader): SearchKey {
  r.depth++;
  try {
    return readKey(r);
  } finally {
    r.depth--;
  }
}

function readText(r: Reader): string {
  const token = r.tokens[r.i++];
  if (!token || token.kind === 'list') throw new SearchSyntaxError('Missing search string');
  return token.kind === 'string' ? token.value.toString('utf8') : token.value;
}

function readAtom(r: Reader): string {
  const token = r.tokens[r.i++];
  if (!token || token.kind !== 'atom') throw new SearchSyntaxError('Missing search argument');
  return token.value;
}

function readNumber(r: Reader): number {
  const text = readAtom(r);
  if (!/^\d{1,19}$/.test(text)) throw new SearchSyntaxError(`Invalid number ${text.slice(0, 20)}`);
  return Number(text);
}

/** date = 1*2DIGIT "-" date-month "-" 4DIGIT, as a day number (UTC midnight, ms). */
function readDate(r: Reader): number {
  const text = readText(r);
  const m = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(text);
  const month = m ? MONTHS.indexOf(m[2]!.toLowerCase()) : -1;
  if (!m || month < 0) throw new SearchSyntaxError(`Invalid date ${text.slice(0, 20)}`);
  return Date.UTC(Number(m[3]), month, Number(m[1]));
}
