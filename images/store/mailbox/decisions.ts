// The engine's pure decisions: UIDVALIDITY and UID assignment, MODSEQ after a rebuild, quota checks,
// and what to do with the files a crash left behind. No I/O here; the engine does what these say.
import type { Quota } from './api.ts';

/**
 * A new mailbox's UIDVALIDITY: the clock in seconds (what Dovecot and Cyrus use, so it is unlikely to
 * repeat a value a client cached for an older mailbox of the same name), but always above the last
 * value this account gave out, so two mailboxes created in one second, or a clock that went back,
 * still get distinct, increasing values (RFC 9051 §2.3.1.1). 32 bits, never 0.
 */
export function nextUidValidity(lastGiven: number, nowMs: number): number {
  const clock = Math.floor(nowMs / 1000);
  const next = Math.max(clock, lastGiven + 1);
  return next > 0xffffffff || next < 1 ? 1 : next;
}

/** UIDs for `count` new messages: consecutive from UIDNEXT, which moves past them (RFC 9051 §2.3.1.1). */
export function assignUids(uidNext: number, count: number): { uids: number[]; uidNext: number } {
  const uids = Array.from({ length: count }, (_, i) => uidNext + i);
  return { uids, uidNext: uidNext + count };
}

/**
 * The MODSEQ a rebuilt index starts from. The lost index's HIGHESTMODSEQ is unknown, and a client's
 * CONDSTORE cache is wrong unless every message's MODSEQ ends up above what it last saw (RFC 7162
 * §3.1.1 "MUST NOT decrease"). Microseconds since the epoch are above any MODSEQ this store could have
 * reached (one per transaction: 10^15 transactions would take decades), and grow with each rebuild.
 * Below 2^53, so it stays exact in a JavaScript number.
 */
export function modseqAfterRebuild(previousKnown: number, nowMs: number): number {
  return Math.max(previousKnown + 1, Math.floor(nowMs) * 1000);
}

/** UIDNEXT of a rebuilt mailbox: past every file found and past the floor written at the last expunge. */
export function uidNextAfterRebuild(uidsFound: readonly number[], uidNextFloor: number): number {
  let max = 0;
  for (const uid of uidsFound) if (uid > max) max = uid;
  return Math.max(max + 1, uidNextFloor, 1);
}

/**
 * UIDs reserved past UIDNEXT when mailbox.json's floor is written before an expunge of the newest
 * message. A client that appends and expunges its newest message in a loop (a draft saved again
 * and again, the benchmark's mixed load) would otherwise cost a file write and two fsyncs per
 * expunge; with the reserve, one per 1,024 UIDs. A rebuild may then skip up to that many UIDs,
 * which RFC 9051 allows (UIDs ascend; they need not be consecutive).
 */
export const UID_FLOOR_RESERVE = 1024;

/**
 * Before the newest message (`newest`) is expunged: the floor mailbox.json must record so that a
 * rebuilt index never gives that UID again, or undefined when the floor already written (by this
 * process; undefined if unknown) is above it.
 */
export function uidFloorBeforeExpunge(
  newest: number,
  uidNext: number,
  written: number | undefined,
): number | undefined {
  if (written !== undefined && written > newest) return undefined;
  return Math.max(uidNext, newest + 1) + UID_FLOOR_RESERVE;
}

export interface QuotaLimits {
  readonly storageBytes: number | undefined;
  readonly messages: number | undefined;
}

/**
 * Whether adding `bytes` in `messages` messages keeps the account within its quota (RFC 9208 §5:
 * the operation fails when it would take usage over the limit; being at the limit is allowed).
 */
export function quotaAllows(quota: Quota, messages: number, bytes: number): boolean {
  const { storage, messages: count } = quota;
  if (storage.limit !== undefined && storage.usage + bytes > storage.limit) return false;
  if (count.limit !== undefined && count.usage + messages > count.limit) return false;
  return true;
}

/**
 * Files named by UID that a crash may have left in a mailbox directory: a copy or delivery links its
 * files in under their new UIDs (from UIDNEXT up, in order) before the index commits them. The index
 * is right (it commits last), so any file from UIDNEXT up is an orphan of a transaction that never
 * committed — never acknowledged — and goes. `present(uid)` says whether a file exists; the probe
 * stops at the first gap, since one transaction's UIDs are consecutive and transactions of one
 * account are serialised.
 */
export function orphanUids(uidNext: number, present: (uid: number) => boolean, maxProbe = 100_000): number[] {
  const out: number[] = [];
  for (let uid = uidNext; uid < uidNext + maxProbe && present(uid); uid++) out.push(uid);
  return out;
}

export type AfterCommitAction =
  | { kind: 'unlink'; path: string }
  | { kind: 'remove-dir'; path: string }
  | { kind: 'write-mailbox-meta'; mailboxId: number }
  | { kind: 'write-subscriptions' }
  /**
   * Messages [first, last] of a mailbox were committed while their directory's fsync was still
   * running (the two run at once): after a power loss the rows may be there and a file not; such
   * rows are dropped at the next open. Forgotten, never performed, once both syncs are done.
   */
  | { kind: 'check-placed'; mailboxId: number; first: number; last: number };

/** Encodes what the index records as still to do after a commit (replayed after a crash). */
export function encodeAfterCommit(action: AfterCommitAction): string {
  return JSON.stringify(action);
}

export function decodeAfterCommit(text: string): AfterCommitAction | undefined {
  try {
    const value = JSON.parse(text) as AfterCommitAction;
    if (value && typeof value === 'object' && typeof value.kind === 'string') return value;
  } catch {
    // A row we cannot read was never a valid action; dropping it only leaves a stray file.
  }
  return undefined;
}
