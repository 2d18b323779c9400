// The selected mailbox as this session's client knows it: the message sequence (sequence number n
// is messages[n - 1]), each message's flags and MODSEQ as last told, and the changes other sessions
// made that the client has not been told yet. Sequence numbers change only when this session
// announces an EXPUNGE, so they stay right for the client (RFC 9051 7.4.1, 5.5).
import type { MailboxChange, MailboxView, MessageMeta } from '../mailbox/api.ts';
import { atom, type ImapValue } from './protocol/response.ts';
import {
  formatSequenceSet,
  isSavedResult,
  selectFromSorted,
  selectSequenceNumbers,
  type SequenceSet,
} from './protocol/sequence-set.ts';

export interface KnownMessage {
  uid: number;
  flags: readonly string[];
  modseq: number;
  internalDate: number;
  size: number;
  recent: boolean;
}

export interface UpdateOptions {
  /** EXPUNGE may not be sent during FETCH, STORE, SEARCH and COPY by sequence number. */
  allowExpunge: boolean;
  /** QRESYNC enabled: VANISHED instead of EXPUNGE (RFC 7162 3.2.10). */
  qresync: boolean;
  condstore: boolean;
  /** IMAP4rev1 clients hear RECENT. */
  rev1: boolean;
}

export class SelectedMailbox {
  readonly view: MailboxView;
  readonly messages: KnownMessage[];
  readonly uidValidity: number;
  readonly readOnly: boolean;
  highestModseq: number;
  uidNext: number;
  /** Taken from the view but not yet told (an EXPUNGE waiting for a command that allows it). */
  private pending: MailboxChange[] = [];
  gone = false;
  /** Set while the session is in IDLE: called when another session changed this mailbox. */
  wake: (() => void) | undefined;

  constructor(view: MailboxView) {
    this.view = view;
    const snapshot = view.snapshot;
    this.messages = snapshot.messages.map(known);
    this.uidValidity = snapshot.uidValidity;
    this.readOnly = view.readOnly;
    this.highestModseq = snapshot.highestModseq;
    this.uidNext = snapshot.uidNext;
    view.onChanges(() => this.wake?.());
  }

  get exists(): number {
    return this.messages.length;
  }

  get uids(): number[] {
    return this.messages.map((m) => m.uid);
  }

  /** Sequence number of a UID, or 0. */
  seqOf(uid: number): number {
    let lo = 0;
    let hi = this.messages.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const at = this.messages[mid]!.uid;
      if (at === uid) return mid + 1;
      if (at < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }

  /** The saved result's messages still present, ascending. */
  savedUids(): number[] {
    return this.savedResult.filter((u) => this.seqOf(u) > 0).sort((a, b) => a - b);
  }

  byUid(uid: number): KnownMessage | undefined {
    const seq = this.seqOf(uid);
    return seq ? this.messages[seq - 1] : undefined;
  }

  /** SEARCHRES's "$" (RFC 5182 2.1): UIDs, so expunged messages drop out; empty at SELECT. */
  savedResult: readonly number[] = [];

  /** The sequence numbers a set names, by sequence number or (uid) by UID; "$" either way. */
  resolve(set: SequenceSet, uid: boolean): number[] {
    if (isSavedResult(set)) return this.savedUids().map((u) => this.seqOf(u));
    if (!uid) return selectSequenceNumbers(set, this.messages.length);
    return selectFromSorted(set, this.uids).map((u) => this.seqOf(u));
  }

  /** Applies this session's own flag changes (STORE, implicit \Seen) to what the client knows. */
  noteFlags(meta: MessageMeta): void {
    const m = this.byUid(meta.uid);
    if (!m) return;
    m.flags = meta.flags;
    m.modseq = meta.modseq;
  }

  /** Removes this session's own expunges and returns their sequence numbers, highest first. */
  removeOwn(uids: readonly number[]): number[] {
    const seqs = uids
      .map((u) => this.seqOf(u))
      .filter((s) => s > 0)
      .sort((a, b) => b - a);
    for (const seq of seqs) this.messages.splice(seq - 1, 1);
    return seqs;
  }

  /**
   * Takes the view's queued changes and returns the untagged responses to send now. Whatever may
   * not be sent yet stays queued, in order.
   */
  update(options: UpdateOptions): ImapValue[][] {
    const taken = this.view.takeChanges();
    this.pending.push(...taken.changes);
    const out: ImapValue[][] = [];
    let existsChanged = false;
    let recent = 0;
    while (this.pending.length > 0) {
      const change = this.pending[0]!;
      if (change.kind === 'expunge' && !options.allowExpunge) break;
      this.pending.shift();
      switch (change.kind) {
        case 'exists':
          for (const meta of change.messages) {
            if (this.seqOf(meta.uid)) continue;
            this.messages.push(known(meta));
            if (meta.recent) recent++;
            if (meta.uid >= this.uidNext) this.uidNext = meta.uid + 1;
          }
          existsChanged = true;
          break;
        case 'expunge': {
          if (existsChanged) {
            out.push([atom('*'), this.messages.length, atom('EXISTS')]);
            existsChanged = false;
          }
          const present = change.uids.filter((u) => this.seqOf(u) > 0);
          if (options.qresync) {
            this.removeOwn(present);
            if (present.length > 0)
              out.push([
                atom('*'),
                atom('VANISHED'),
                atom(formatSequenceSet([...present].sort((a, b) => a - b))),
              ]);
          } else {
            for (const seq of this.removeOwn(present)) out.push([atom('*'), seq, atom('EXPUNGE')]);
          }
          break;
        }
        case 'flags': {
          const seq = this.seqOf(change.uid);
          if (!seq) break;
          const m = this.messages[seq - 1]!;
          m.flags = change.flags;
          m.modseq = change.modseq;
          out.push([atom('*'), seq, atom('FETCH'), this.flagsItem(m, options.condstore, options.rev1)]);
          break;
        }
        case 'mailboxGone':
          if (change.renamedTo === undefined) this.gone = true;
          break;
      }
    }
    if (existsChanged) {
      out.push([atom('*'), this.messages.length, atom('EXISTS')]);
      if (options.rev1 && recent > 0)
        out.push([atom('*'), this.messages.filter((m) => m.recent).length, atom('RECENT')]);
    }
    if (this.pending.length === 0) {
      this.highestModseq = Math.max(this.highestModseq, taken.highestModseq);
      this.uidNext = Math.max(this.uidNext, taken.uidNext);
    }
    return out;
  }

  flagsItem(m: KnownMessage, condstore: boolean, rev1: boolean): ImapValue[] {
    const items: ImapValue[] = [atom('UID'), m.uid, atom('FLAGS'), flagAtoms(m, rev1)];
    if (condstore) items.push(atom('MODSEQ'), [m.modseq]);
    return items;
  }
}

export function flagAtoms(m: Pick<KnownMessage, 'flags' | 'recent'>, rev1: boolean): ImapValue[] {
  const flags: ImapValue[] = m.flags.map(atom);
  if (m.recent && rev1) flags.push(atom('\\Recent'));
  return flags;
}

function known(meta: MessageMeta): KnownMessage {
  return {
    uid: meta.uid,
    flags: meta.flags,
    modseq: meta.modseq,
    internalDate: meta.internalDate,
    size: meta.size,
    recent: meta.recent,
  };
}
