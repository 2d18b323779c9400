// Message flags as the index keeps them: the five system flags as bits, keywords as a list. Pure.
import { StoreError, SYSTEM_FLAGS, type StoreFlagsRequest } from './api.ts';
import { STORE_LIMITS } from '../limits.ts';

export interface FlagSet {
  /** Bit i is SYSTEM_FLAGS[i]. */
  readonly system: number;
  /** In the order first set; compared without regard to case. */
  readonly keywords: readonly string[];
}

export const NO_FLAGS: FlagSet = { system: 0, keywords: [] };
export const SEEN = 1 << SYSTEM_FLAGS.indexOf('\\Seen');
export const DELETED = 1 << SYSTEM_FLAGS.indexOf('\\Deleted');

const SYSTEM_BY_LOWER = new Map(SYSTEM_FLAGS.map((f, i) => [f.toLowerCase(), 1 << i]));
// RFC 9051 §9 atom-char: no ( ) { space, controls, % * " \ ] — and flag-keyword is an atom.
// eslint-disable-next-line no-control-regex
const ATOM = /^[^\u0000-\u0020\u007f(){%*"\\\]]+$/;

/** A client's flag list → a FlagSet. \Recent and unknown system flags are refused (RFC 9051 §2.3.2). */
export function parseFlags(flags: readonly string[]): FlagSet {
  let system = 0;
  const keywords: string[] = [];
  for (const flag of flags) {
    if (flag.startsWith('\\')) {
      const bit = SYSTEM_BY_LOWER.get(flag.toLowerCase());
      if (bit === undefined) throw new StoreError('CANNOT', `${flag} is not a flag a client can set`);
      system |= bit;
      continue;
    }
    if (!ATOM.test(flag)) throw new StoreError('CANNOT', `"${flag}" is not a valid keyword`);
    if (Buffer.byteLength(flag) > STORE_LIMITS.keywordBytes)
      throw new StoreError('LIMIT', `a keyword is at most ${STORE_LIMITS.keywordBytes} bytes`);
    if (!keywords.some((k) => sameKeyword(k, flag))) keywords.push(flag);
  }
  return { system, keywords };
}

export function sameKeyword(a: string, b: string): boolean {
  return a.length === b.length && a.toLowerCase() === b.toLowerCase();
}

export function flagStrings(set: FlagSet): string[] {
  const out: string[] = [];
  SYSTEM_FLAGS.forEach((f, i) => {
    if (set.system & (1 << i)) out.push(f);
  });
  return out.concat(set.keywords);
}

/** The flags after STORE FLAGS / +FLAGS / -FLAGS (RFC 9051 §6.4.6). */
export function applyStore(current: FlagSet, mode: StoreFlagsRequest['mode'], change: FlagSet): FlagSet {
  switch (mode) {
    case 'replace':
      return change;
    case 'add': {
      const added = change.keywords.filter((k) => !current.keywords.some((c) => sameKeyword(c, k)));
      return { system: current.system | change.system, keywords: [...current.keywords, ...added] };
    }
    case 'remove':
      return {
        system: current.system & ~change.system,
        keywords: current.keywords.filter((c) => !change.keywords.some((k) => sameKeyword(c, k))),
      };
  }
}

export function sameFlags(a: FlagSet, b: FlagSet): boolean {
  return (
    a.system === b.system &&
    a.keywords.length === b.keywords.length &&
    a.keywords.every((k) => b.keywords.some((o) => sameKeyword(k, o)))
  );
}

/**
 * Keywords in a mailbox after adding `more`, spelled as first seen. LIMIT when a STORE or APPEND
 * would take the mailbox over STORE_LIMITS.keywordsPerMailbox.
 */
export function mergeKeywords(known: readonly string[], more: readonly string[]): readonly string[] {
  const fresh = more.filter((k) => !known.some((c) => sameKeyword(c, k)));
  if (fresh.length === 0) return known;
  if (known.length + fresh.length > STORE_LIMITS.keywordsPerMailbox)
    throw new StoreError('LIMIT', `a mailbox holds at most ${STORE_LIMITS.keywordsPerMailbox} keywords`);
  return [...known, ...fresh];
}
