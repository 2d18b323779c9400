// The mailbox engine's interface: what the protocol servers (IMAP, POP3, LMTP) use and all they may
// use. Nothing here knows a protocol's wire syntax; everything here is IMAP's model of a mailbox
// (RFC 9051 §2.3, RFC 7162 for MODSEQ/QRESYNC, RFC 4315 for UIDPLUS, RFC 9208 for quotas), because
// IMAP is the richest client and POP3 and LMTP are subsets of it.
//
// Shape (see README.md beside this file):
//
//   MessageStore            one per process; owns every account's files and index
//     .deliver()            LMTP: one message to several recipients, one result each
//     .openAccount(user) →  Account, one per session (IMAP, POP3), reference-counted inside
//       list/create/delete/rename/subscribe/status/quota/append
//       .openMailbox(name) → MailboxView: the snapshot a session selects, plus the changes other
//                            sessions make afterwards, queued until the session takes them
//
// Conventions, fixed for every implementation:
// - A user is the account's key, the recipient address lowercased (`alice@siroe.example`). The MMP
//   logs in with that as authzid; LMTP delivers to it. The store has no directory (docs/design.md).
// - Mailbox names are Unicode strings with `/` as the hierarchy delimiter (MAILBOX_DELIMITER). The
//   IMAP layer converts modified UTF-7 for IMAP4rev1 clients that did not ENABLE UTF8=ACCEPT.
//   `INBOX` is matched without regard to case, as the first component of a name too.
// - Flags are strings as IMAP writes them: system flags with their backslash in canonical case
//   (`\Seen`, `\Answered`, `\Flagged`, `\Deleted`, `\Draft`), keywords as atoms. Keywords compare
//   without regard to case; the first spelling stored wins. `\Recent` is not a stored flag: it is the
//   `recent` field, given to exactly one session (RFC 3501 §2.3.2).
// - UIDs, MODSEQs and UIDVALIDITY are plain numbers (MODSEQ stays below 2^53 for any real mailbox).
// - Times are milliseconds since the epoch.
// - Every method that can fail for a reason a client should hear rejects with a StoreError whose
//   `code` is the RFC 5530 response code to send (OVERQUOTA, NONEXISTENT, …). Anything else thrown
//   is an internal failure: answer `NO [SERVERBUG]` / `-ERR [SYS/TEMP]` / `451 4.3.0`.
// - Changes a session makes through its own MailboxView are not queued back to that view: the
//   method's result says what changed, and the session reports it. Changes made through the
//   Account (APPEND, COPY into the selected mailbox) are queued to every view, the caller's too,
//   so EXISTS follows the normal path.
import type { Readable } from 'node:stream';

export const MAILBOX_DELIMITER = '/';

export const SYSTEM_FLAGS = ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'] as const;
export type SystemFlag = (typeof SYSTEM_FLAGS)[number];

/** RFC 6154 special-use attributes the store knows (created by default, settable by CREATE USE). */
export const SPECIAL_USES = [
  '\\Sent',
  '\\Drafts',
  '\\Trash',
  '\\Junk',
  '\\Archive',
  '\\All',
  '\\Flagged',
] as const;
export type SpecialUse = (typeof SPECIAL_USES)[number];

/** The response codes (RFC 5530, RFC 4315, RFC 9208) a StoreError carries. */
export type StoreErrorCode =
  | 'NONEXISTENT' // no such mailbox (APPEND/COPY/MOVE also say TRYCREATE: see StoreError.tryCreate)
  | 'ALREADYEXISTS' // CREATE/RENAME onto a name that exists
  | 'OVERQUOTA' // the account's storage or message quota would be exceeded
  | 'TOOBIG' // one message is over maxMessageBytes (APPENDLIMIT)
  | 'CANNOT' // forbidden by the store's rules: delete INBOX, rename onto own inferior, bad name
  | 'NOPERM' // the view is read-only (EXAMINE) and the call writes
  | 'LIMIT' // a store limit: too many mailboxes, too deep, name too long, too many keywords
  | 'EXPUNGEISSUED' // the message was expunged by another session; its bytes are gone
  | 'UNAVAILABLE'; // the store is draining or the account's index is being rebuilt: try later

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  /** APPEND/COPY/MOVE into a missing mailbox: send `NO [TRYCREATE]` (RFC 9051 §6.3.12). */
  readonly tryCreate: boolean;

  constructor(code: StoreErrorCode, message: string, options?: { tryCreate?: boolean; cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.name = 'StoreError';
    this.code = code;
    this.tryCreate = options?.tryCreate ?? false;
  }
}

export function isStoreError(error: unknown, code?: StoreErrorCode): error is StoreError {
  return error instanceof StoreError && (code === undefined || error.code === code);
}

// ——— Folders ———————————————————————————————————————————————————————————————————————————————————

export interface MailboxInfo {
  /** Full name, `/`-delimited, `INBOX` spelled in capitals. */
  readonly name: string;
  /**
   * LIST attributes the store knows, in this order: `\Noselect` (a name that exists only because it
   * has inferiors, RFC 9051 §6.3.4), `\HasChildren` or `\HasNoChildren`, then the special-use one.
   * The IMAP layer adds `\Subscribed`, `\NonExistent`, `\Marked` etc. from the other fields.
   */
  readonly attributes: readonly string[];
  readonly specialUse: SpecialUse | undefined;
  readonly subscribed: boolean;
  readonly selectable: boolean;
  readonly hasChildren: boolean;
}

export interface CreateOptions {
  /** CREATE … (USE (\Sent)) — RFC 6154 §5.2. */
  specialUse?: SpecialUse;
}

// ——— Status and quota ————————————————————————————————————————————————————————————————————————

/** Everything STATUS can ask (RFC 9051 §6.3.11, RFC 7162 §3.1.4 HIGHESTMODSEQ, RFC 8438 SIZE). */
export interface MailboxStatus {
  readonly messages: number;
  /** RFC 3501 only: messages no session has been told of yet. */
  readonly recent: number;
  readonly uidNext: number;
  readonly uidValidity: number;
  readonly unseen: number;
  readonly deleted: number;
  /** Sum of RFC822.SIZE of the messages, octets. */
  readonly size: number;
  readonly highestModseq: number;
}

export interface QuotaResource {
  readonly usage: number;
  /** undefined: no limit on this resource. */
  readonly limit: number | undefined;
}

/**
 * The one quota root of an account (RFC 9208): every mailbox of the user is under root "" (the
 * empty string), like Dovecot's "User quota". STORAGE here is in octets: the IMAP layer reports
 * units of 1024 octets, rounding up.
 */
export interface Quota {
  readonly root: '';
  readonly storage: QuotaResource;
  readonly messages: QuotaResource;
}

// ——— Messages ——————————————————————————————————————————————————————————————————————————————————

export interface MessageMeta {
  readonly uid: number;
  /** System flags first in SYSTEM_FLAGS order, then keywords in the order they were set. */
  readonly flags: readonly string[];
  readonly modseq: number;
  /** INTERNALDATE, ms since the epoch. */
  readonly internalDate: number;
  /** RFC822.SIZE: the octets of the stored message, exactly as readMessage returns them. */
  readonly size: number;
  /** \Recent for this session (RFC 3501): true in exactly one read-write view. */
  readonly recent: boolean;
}

export interface MailboxSnapshot {
  readonly name: string;
  readonly uidValidity: number;
  readonly uidNext: number;
  readonly highestModseq: number;
  /** Every message, UID ascending: message sequence number n is messages[n - 1]. */
  readonly messages: readonly MessageMeta[];
  /** Keywords used in this mailbox (for the FLAGS response); PERMANENTFLAGS also allows \*. */
  readonly keywords: readonly string[];
  readonly readOnly: boolean;
}

/** What another session changed, in commit order. */
export type MailboxChange =
  /** New messages (APPEND, delivery, COPY/MOVE in): send EXISTS (and RECENT for rev1). */
  | { readonly kind: 'exists'; readonly messages: readonly MessageMeta[] }
  /** Expunged (EXPUNGE, MOVE out, POP3 DELE+QUIT): send EXPUNGE per message, or VANISHED. */
  | { readonly kind: 'expunge'; readonly uids: readonly number[]; readonly modseq: number }
  /** New flags of one message (FETCH (FLAGS … MODSEQ …)). */
  | {
      readonly kind: 'flags';
      readonly uid: number;
      readonly flags: readonly string[];
      readonly modseq: number;
    }
  /**
   * The mailbox was deleted, or renamed by RENAME INBOX's move (then `renamedTo` is its new name and
   * the view stays valid under it). A deleted mailbox's view answers nothing more: send
   * `* BYE` or return to the authenticated state, as Dovecot does.
   */
  | { readonly kind: 'mailboxGone'; readonly renamedTo: string | undefined };

export interface MailboxChanges {
  readonly changes: readonly MailboxChange[];
  /** The mailbox's HIGHESTMODSEQ and UIDNEXT once these changes are applied. */
  readonly highestModseq: number;
  readonly uidNext: number;
}

/** STORE (RFC 9051 §6.4.6) with CONDSTORE's UNCHANGEDSINCE (RFC 7162 §3.1.3). */
export interface StoreFlagsRequest {
  readonly uids: readonly number[];
  readonly mode: 'add' | 'remove' | 'replace';
  readonly flags: readonly string[];
  /** Messages whose MODSEQ is above this are not changed and come back in `modified`. */
  readonly unchangedSince?: number;
}

export interface StoreFlagsResult {
  /**
   * One entry per message that exists and passed UNCHANGEDSINCE, UID ascending, with its flags now.
   * `changed` false: the flags were already so, and the MODSEQ did not move (RFC 7162 §3.1.3).
   */
  readonly messages: readonly (MessageMeta & { readonly changed: boolean })[];
  /** UIDs that failed UNCHANGEDSINCE: `OK [MODIFIED …]`. */
  readonly modified: readonly number[];
}

/** COPY/MOVE/APPEND results for UIDPLUS (RFC 4315): COPYUID / APPENDUID. */
export interface CopyResult {
  readonly uidValidity: number;
  /** [source UID, new UID] pairs in source UID order; expunged sources are left out. */
  readonly mapping: readonly (readonly [number, number])[];
}

export interface MoveResult extends CopyResult {
  /** The source UIDs now expunged from the view's mailbox, and the MODSEQ of that expunge. */
  readonly expunged: readonly number[];
  readonly modseq: number;
}

export interface ExpungeRequest {
  /** Candidates; undefined means every message. */
  readonly uids?: readonly number[];
  /** IMAP EXPUNGE/CLOSE/UID EXPUNGE: only those with \Deleted. POP3 passes false with its UIDs. */
  readonly onlyDeleted: boolean;
}

export interface ExpungeResult {
  readonly uids: readonly number[];
  /** The MODSEQ given to the expunge (RFC 7162 §3.2.7); the view's HIGHESTMODSEQ afterwards. */
  readonly modseq: number;
}

/** Where a message's bytes come from: all at once, or a stream (an IMAP literal as it arrives). */
export type MessageSource = Uint8Array | AsyncIterable<Uint8Array>;

/**
 * A message file being written as the bytes arrive, for an APPEND literal too big to hold in memory
 * (`MessageStore.receiveMessage`); passed as an AppendItem's source once complete. Not fsynced, not
 * visible, until an append takes it; `discard` removes it (harmless after an append took it).
 */
export interface IncomingMessage {
  /** Bytes written so far. */
  readonly size: number;
  /** TOOBIG past maxMessageBytes. The buffer is kept until written: do not reuse it. */
  write(chunk: Uint8Array): Promise<void>;
  discard(): Promise<void>;
}

export interface AppendItem {
  /** The bytes, or a file `receiveMessage` gave (its internalDate is set when it is appended). */
  readonly source: MessageSource | IncomingMessage;
  /** Flags to store (no \Recent). */
  readonly flags?: readonly string[];
  /** INTERNALDATE; now when omitted. */
  readonly internalDate?: number;
}

export interface AppendResult {
  readonly uidValidity: number;
  /** One UID per item, in order. */
  readonly uids: readonly number[];
}

/**
 * MULTIAPPEND (RFC 3502) as the literals arrive: each `add` writes one message to disk (fsynced)
 * but nothing is visible until `commit`, which makes all of them visible at once or none. `abort`
 * (or a dropped connection: call it) throws the written ones away.
 */
export interface AppendBatch {
  add(item: AppendItem): Promise<void>;
  commit(): Promise<AppendResult>;
  abort(): Promise<void>;
}

/** Bytes [start, end) of a message, for BODY[]<partial> and TOP. end is clamped to the size. */
export interface ByteRange {
  readonly start: number;
  readonly end?: number;
}

/** A stored message open for reading (MailboxView.openMessage). */
export interface MessageFile {
  /** The octets of the message (RFC822.SIZE). */
  readonly size: number;
  /** Reads up to `length` octets at `position` into `buffer` from 0; 0 at the end. */
  read(buffer: Buffer, length: number, position: number): Promise<number>;
  close(): Promise<void>;
}

// ——— The per-session objects ——————————————————————————————————————————————————————————————————

/**
 * A selected mailbox. The snapshot is taken at open; afterwards other sessions' changes queue here
 * until `takeChanges()`, so the IMAP layer sends them only where RFC 9051 §7 allows (never during
 * FETCH/STORE/SEARCH by sequence number, for EXPUNGE) and keeps its sequence numbers right.
 */
export interface MailboxView {
  readonly snapshot: MailboxSnapshot;
  /** The name now (changes if RENAME moves the mailbox while selected). */
  readonly name: string;
  readonly readOnly: boolean;

  /** Everything queued since the last call, oldest first; empties the queue. */
  takeChanges(): MailboxChanges;
  /** Called (once per batch, without arguments) when changes are queued: wakes IDLE. */
  onChanges(listener: () => void): void;

  /**
   * The raw message exactly as stored (CRLF line ends), or a byte range of it. Never loads the whole
   * message into memory. Rejects EXPUNGEISSUED if another session expunged it.
   */
  readMessage(uid: number, range?: ByteRange): Promise<Readable>;
  /**
   * The whole message in memory, for small messages and parsers that need it all; or only `range`
   * of it (a header block for SEARCH and HEADER.FIELDS: a few hundred bytes, not the message).
   */
  readMessageBuffer(uid: number, range?: ByteRange): Promise<Buffer>;
  /**
   * The message's file, open for reads into the caller's own buffers (a big FETCH reuses a few
   * buffers for every message instead of a new one per chunk). The caller closes it. Rejects
   * EXPUNGEISSUED as readMessage does; the file never changes under its name (no partial reads).
   */
  openMessage(uid: number): Promise<MessageFile>;

  /**
   * A per-message cache the IMAP layer fills with what it derives from the bytes (a parsed MIME
   * tree with part offsets for BODYSTRUCTURE/BODY[n], the ENVELOPE, SORT keys) so it parses each
   * message once. Kept in the index, removed with the message; keys are short names of your choosing
   * (`imap.bodystructure.v1`). Values are JSON strings up to 64 KiB. Version your keys.
   */
  getCached(uid: number, key: string): Promise<string | undefined>;
  putCached(uid: number, key: string, value: string): Promise<void>;

  storeFlags(request: StoreFlagsRequest): Promise<StoreFlagsResult>;
  expunge(request: ExpungeRequest): Promise<ExpungeResult>;
  /** COPY into another mailbox (the same one is allowed). Atomic: all copies appear or none. */
  copy(uids: readonly number[], destination: string): Promise<CopyResult>;
  /** MOVE (RFC 6851): copy and expunge in one atomic step. */
  move(uids: readonly number[], destination: string): Promise<MoveResult>;

  /**
   * QRESYNC (RFC 7162 §3.2.5.2, §3.2.6): UIDs expunged with a MODSEQ above `modseq`, optionally
   * only those in `uids`, ascending. Tombstones are kept for every expunge, so the answer is exact.
   */
  vanishedSince(modseq: number, uids?: readonly number[]): Promise<readonly number[]>;

  /** Deselect: stop queueing changes. Idempotent. */
  close(): void;
}

export interface OpenMailboxOptions {
  /** EXAMINE, or a POP3 session that only reads: no \Recent claimed, writes fail NOPERM. */
  readOnly: boolean;
}

/** One logged-in session's handle on a user's mail. */
export interface Account {
  readonly user: string;
  readonly delimiter: typeof MAILBOX_DELIMITER;

  /** Every mailbox and placeholder (\Noselect) the account has, names sorted. LIST filters them. */
  listMailboxes(): Promise<readonly MailboxInfo[]>;
  /** LSUB / LIST (SUBSCRIBED): subscribed names, including ones with no mailbox (\NonExistent). */
  listSubscriptions(): Promise<readonly string[]>;
  subscribe(name: string): Promise<void>;
  unsubscribe(name: string): Promise<void>;

  /** CREATE; superiors that are missing are created too. ALREADYEXISTS, CANNOT, LIMIT. */
  create(name: string, options?: CreateOptions): Promise<void>;
  /**
   * DELETE (RFC 9051 §6.3.5): with inferiors, its messages go and it becomes \Noselect; a \Noselect
   * with inferiors, or INBOX, is CANNOT. Open views get `mailboxGone`.
   */
  delete(name: string): Promise<void>;
  /**
   * RENAME with every inferior; subscriptions follow. Renaming INBOX moves its messages to the new
   * mailbox (same UIDs, that mailbox keeps INBOX's UIDVALIDITY) and leaves INBOX empty with a new
   * UIDVALIDITY; INBOX's inferiors stay.
   */
  rename(from: string, to: string): Promise<void>;

  status(name: string): Promise<MailboxStatus>;
  quota(): Promise<Quota>;
  /** APPENDLIMIT (RFC 7889) and the size LMTP advertises. */
  readonly maxMessageBytes: number;

  /** SELECT/EXAMINE, POP3's INBOX. NONEXISTENT, or CANNOT for a \Noselect name. */
  openMailbox(name: string, options: OpenMailboxOptions): Promise<MailboxView>;

  /** APPEND of one or more messages in one step (MULTIAPPEND when several). */
  append(mailbox: string, items: readonly AppendItem[]): Promise<AppendResult>;
  /** MULTIAPPEND streamed: the mailbox must exist now (NONEXISTENT + tryCreate otherwise). */
  beginAppend(mailbox: string): Promise<AppendBatch>;

  /** Logout: closes this session's views. The account stays open while other sessions use it. */
  close(): void;
}

// ——— Delivery (LMTP) ————————————————————————————————————————————————————————————————————————————

export interface DeliveryRequest {
  /** The message, dot-unstuffed, CRLF, as it will be stored and read back byte for byte. */
  readonly source: MessageSource;
  /** RCPT TO addresses, already known to be hosted here (the LMTP layer checks the domain). */
  readonly recipients: readonly string[];
  /** MAIL FROM, kept in the index for logs (the message itself is not modified). */
  readonly sender: string;
}

/** One per recipient, in order: LMTP answers each after DATA (RFC 2033 §4.2). */
export type DeliveryOutcome =
  | {
      readonly recipient: string;
      readonly kind: 'delivered';
      readonly uid: number;
      readonly uidValidity: number;
    }
  | { readonly recipient: string; readonly kind: 'overQuota' } // 452 4.2.2
  | { readonly recipient: string; readonly kind: 'tooBig' } // 552 5.3.4
  | { readonly recipient: string; readonly kind: 'failed'; readonly reason: string }; // 451 4.3.0

export interface MessageStore {
  /**
   * A session's handle on a user's mail; the account is created (INBOX and the special-use mailboxes,
   * subscribed) on first use. Rejects CANNOT for a user name the store cannot hold.
   */
  openAccount(user: string): Promise<Account>;
  /** Writes the message once, links it into each recipient's INBOX; acknowledged = fsynced. */
  deliver(request: DeliveryRequest): Promise<readonly DeliveryOutcome[]>;
  /** A message file to write as a literal arrives, then to append (memory stays bounded). */
  receiveMessage(): Promise<IncomingMessage>;
  /** Drain: finish what is in flight, refuse new work with UNAVAILABLE, close every index. */
  close(): Promise<void>;
}
