// Sequence sets and UID sets (RFC 9051 section 9, "sequence-set"): "1:4,7,9:*". A set is kept as
// ranges with "*" unresolved, because "*" means the largest number in use when the command runs.

export interface SequenceRange {
  /** null stands for "*". */
  start: number | null;
  end: number | null;
}

export type SequenceSet = readonly SequenceRange[];

/**
 * "$", the result a SEARCH RETURN (SAVE) kept (RFC 5182): the same messages in UID and sequence
 * number commands alike, so it is resolved by the selected mailbox, never by numbers.
 */
export const SAVED_RESULT: SequenceSet = Object.freeze([]);

export function isSavedResult(set: SequenceSet): boolean {
  return set === SAVED_RESULT;
}

const NUMBER = /^(?:[1-9]\d{0,9}|\*)$/;
const MAX = 0xffffffff; // nz-number is a 32-bit unsigned value

export function parseSequenceSet(text: string): SequenceSet | undefined {
  if (text.length === 0) return undefined;
  const ranges: SequenceRange[] = [];
  for (const part of text.split(',')) {
    const [a, b, extra] = part.split(':');
    if (extra !== undefined || a === undefined || !NUMBER.test(a) || (b !== undefined && !NUMBER.test(b))) {
      return undefined;
    }
    const start = a === '*' ? null : Number(a);
    const end = b === undefined ? start : b === '*' ? null : Number(b);
    if ((start ?? 0) > MAX || (end ?? 0) > MAX) return undefined;
    ranges.push({ start, end });
  }
  return ranges;
}

/** Whether n is in the set, with "*" standing for largest (RFC 9051 6.4.8: 5:* with largest 3 is 3:5). */
export function setContains(set: SequenceSet, n: number, largest: number): boolean {
  for (const range of set) {
    const a = range.start ?? largest;
    const b = range.end ?? largest;
    if (n >= Math.min(a, b) && n <= Math.max(a, b)) return true;
  }
  return false;
}

/** The members of `sorted` (ascending) that are in the set. */
export function selectFromSorted(set: SequenceSet, sorted: readonly number[]): number[] {
  const largest = sorted.length > 0 ? sorted[sorted.length - 1]! : 0;
  if (sorted.length === 0) return [];
  return sorted.filter((n) => setContains(set, n, largest));
}

/** The sequence numbers 1..count that are in the set. Numbers over count are not errors here. */
export function selectSequenceNumbers(set: SequenceSet, count: number): number[] {
  const out = new Set<number>();
  for (const range of set) {
    const a = range.start ?? count;
    const b = range.end ?? count;
    const lo = Math.max(1, Math.min(a, b));
    const hi = Math.min(count, Math.max(a, b));
    for (let n = lo; n <= hi; n++) out.add(n);
  }
  return [...out].sort((x, y) => x - y);
}

/** Whether every number in the set (without "*") is at most count: RFC 9051 wants BAD otherwise. */
export function sequenceNumbersWithin(set: SequenceSet, count: number): boolean {
  return set.every((r) => (r.start ?? count) <= count && (r.end ?? count) <= count);
}

/** Packs numbers into the shortest set: [1,2,3,5] → "1:3,5". Keeps the given order of runs. */
export function formatSequenceSet(numbers: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < numbers.length) {
    const start = numbers[i]!;
    let end = start;
    while (i + 1 < numbers.length && numbers[i + 1] === end + 1) end = numbers[++i]!;
    parts.push(start === end ? String(start) : `${start}:${end}`);
    i++;
  }
  return parts.join(',');
}
