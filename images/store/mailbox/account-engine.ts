// One account's mail: its index, its mailboxes in memory, the views sessions hold, and every change,
// in the order that keeps a crash harmless (docs/store.md):
//
//   adding messages   files linked/renamed in under their new UIDs → commit, with the directory's
//                     fsync and the WAL's at once (a MOVE: directory fsync → commit)
//   removing them     commit (rows gone, after_commit rows say which files) → unlink → forget the rows
//   folders           commit → mkdir / mailbox.json / subscriptions.json (after_commit rows again)
//
// Changes of one account are serialised by one lock; SQLite calls are synchronous, so a transaction
// never interleaves with another. The memory state is changed only after the commit succeeded.
import { existsSync } from 'node:fs';
import { link, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  isStoreError,
  SPECIAL_USES,
  StoreError,
  type CopyResult,
  type ExpungeResult,
  type MailboxChange,
  type MailboxInfo,
  type MailboxStatus,
  type MessageMeta,
  type MoveResult,
  type Quota,
  type SpecialUse,
  type StoreFlagsRequest,
  type StoreFlagsResult,
} from './api.ts';
import {
  assignUids,
  decodeAfterCommit,
  encodeAfterCommit,
  nextUidValidity,
  orphanUids,
  quotaAllows,
  uidFloorBeforeExpunge,
  type AfterCommitAction,
  type QuotaLimits,
} from './decisions.ts';
import {
  applyStore,
  DELETED,
  flagStrings,
  mergeKeywords,
  parseFlags,
  sameFlags,
  SEEN,
  type FlagSet,
} from './flags.ts';
import { IndexDb, type MailboxRow, type MessageRow } from './index-db.ts';
import { accountPaths, type AccountPaths } from './layout.ts';
import { DirectorySync, unlinkIfPresent, writeFileAtomic } from './message-files.ts';
import { isInbox, isInferiorOf, normaliseMailboxName, parentOf, planRename, superiorsOf } from './names.ts';
import { rebuildIndex, type RebuildReport } from './rebuild.ts';
import type { RetainedMailboxes } from './retained-mailboxes.ts';
import { STORE_LIMITS } from '../limits.ts';

/** The mailboxes every account starts with, subscribed (RFC 6154 special-use). */
export const DEFAULT_MAILBOXES: readonly { name: string; specialUse?: SpecialUse }[] = [
  { name: 'INBOX' },
  { name: 'Archive', specialUse: '\\Archive' },
  { name: 'Drafts', specialUse: '\\Drafts' },
  { name: 'Junk', specialUse: '\\Junk' },
  { name: 'Sent', specialUse: '\\Sent' },
  { name: 'Trash', specialUse: '\\Trash' },
];

export interface MailboxRecord {
  id: number;
  name: string;
  selectable: boolean;
  specialUse: SpecialUse | undefined;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  messages: number;
  size: number;
  unseen: number;
  deleted: number;
}

/** A message as memory holds it: the API's MessageMeta (recent false) plus its parsed flags. */
export interface StoredMessage extends MessageMeta {
  readonly flagSet: FlagSet;
}

/** What a view needs of the engine; the engine calls back into views to queue changes. */
export interface ViewSink {
  readonly readOnly: boolean;
  readonly closed: boolean;
  queue(change: MailboxChange): void;
}

/**
 * A mailbox with its messages in memory, while at least one view holds it, and after that while the
 * budget of retained mailboxes (retained-mailboxes.ts) keeps it.
 */
export interface LoadedMailbox {
  readonly record: MailboxRecord;
  readonly messages: Map<number, StoredMessage>;
  keywords: readonly string[];
  readonly views: Set<ViewSink>;
  gone: boolean;
}

export interface AccountEngineOptions {
  dataDir: string;
  quota: QuotaLimits;
  maxMessageBytes: number;
  now?: () => number;
  onRebuild?: (report: RebuildReport) => void;
  /** Where mailboxes no session holds stay loaded, within the process's budget; none: dropped. */
  retained?: RetainedMailboxes;
}

export interface NewMessage {
  /** A file to bring in: renamed (append, owned by the caller) or hard-linked (delivery, copy). */
  readonly path: string;
  readonly how: 'rename' | 'link';
  readonly size: number;
  readonly flags: FlagSet;
  readonly internalDate: number;
}

interface Removal {
  readonly loaded: LoadedMailbox;
  readonly uids: readonly number[];
  readonly modseq: number;
  bytes: number;
  unseen: number;
  deleted: number;
}

interface PendingDelivery {
  readonly item: NewMessage;
  resolve(result: { uid: number; uidValidity: number } | 'overQuota'): void;
  reject(error: unknown): void;
}

/** Deliveries committed together at most: bounds one transaction's time and the UID range it links. */
const DELIVERY_BATCH = 256;

class AccountLock {
  #tail: Promise<unknown> = Promise.resolve();
  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(work, work);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

function recordFromRow(row: MailboxRow): MailboxRecord {
  return {
    id: row.id,
    name: row.name,
    selectable: row.selectable === 1,
    specialUse: (SPECIAL_USES as readonly string[]).includes(row.special_use ?? '')
      ? (row.special_use as SpecialUse)
      : undefined,
    uidValidity: row.uid_validity,
    uidNext: row.uid_next,
    highestModseq: row.highest_modseq,
    messages: row.messages,
    size: row.size,
    unseen: row.unseen,
    deleted: row.deleted,
  };
}

function storedFromRow(row: MessageRow): StoredMessage {
  const flagSet: FlagSet = {
    system: row.flags,
    keywords: row.keywords ? (JSON.parse(row.keywords) as string[]) : [],
  };
  return {
    uid: row.uid,
    flags: flagStrings(flagSet),
    flagSet,
    modseq: row.modseq,
    internalDate: row.internal_date,
    size: row.size,
    recent: false,
  };
}

function withFlags(message: StoredMessage, flagSet: FlagSet, modseq: number): StoredMessage {
  return { ...message, flagSet, flags: flagStrings(flagSet), modseq };
}

const countsOf = (f: FlagSet) => ({ unseen: f.system & SEEN ? 0 : 1, deleted: f.system & DELETED ? 1 : 0 });

export class AccountEngine {
  readonly user: string;
  readonly paths: AccountPaths;
  readonly maxMessageBytes: number;
  readonly #db: IndexDb;
  readonly #options: AccountEngineOptions;
  readonly #lock = new AccountLock();
  readonly #records = new Map<number, MailboxRecord>();
  readonly #byName = new Map<string, number>();
  readonly #subscriptions = new Set<string>();
  readonly #loaded = new Map<number, LoadedMailbox>();
  readonly #dirSyncs = new Map<number, DirectorySync>();
  readonly #recentFromById = new Map<number, number>();
  /** The UIDNEXT floor each mailbox.json holds, as this process last wrote it (absent: unknown). */
  readonly #metaFloors = new Map<number, number>();
  readonly #deliveries: PendingDelivery[] = [];
  #deliveriesFlushing = false;
  /** after_commit rows whose action is done; deleted in the next transaction (no extra fsync). */
  #doneActions: number[] = [];
  #closed = false;
  /** Sessions holding the account (MailStore closes it some time after the last goes). */
  sessions = 0;

  private constructor(user: string, paths: AccountPaths, db: IndexDb, options: AccountEngineOptions) {
    this.user = user;
    this.paths = paths;
    this.#db = db;
    this.#options = options;
    this.maxMessageBytes = options.maxMessageBytes;
  }

  /** Opens the account, creating it, rebuilding a lost or unreadable index, finishing a crash's work. */
  static async open(user: string, options: AccountEngineOptions): Promise<AccountEngine> {
    const paths = accountPaths(options.dataDir, user);
    await mkdir(paths.mailboxes, { recursive: true });
    let db: IndexDb;
    const hasIndex = existsSync(paths.index);
    const hasMail = (await readdir(paths.mailboxes)).length > 0;
    if (!hasIndex && !hasMail) {
      db = IndexDb.open(paths.index, true);
    } else {
      try {
        if (!hasIndex) throw new Error('the index file is missing');
        const opened = IndexDb.open(paths.index, false);
        try {
          opened.mailboxes(); // a file that is not our index fails here, not later mid-session
        } catch (error) {
          await opened.close();
          throw error;
        }
        db = opened;
      } catch (error) {
        const report = await rebuildIndex(paths, (error as Error).message, options.now?.() ?? Date.now());
        options.onRebuild?.(report);
        db = IndexDb.open(paths.index, false);
      }
    }
    const engine = new AccountEngine(user, paths, db, options);
    try {
      engine.#loadRecords();
      await engine.#recover();
      if (engine.#records.size === 0) await engine.#createDefaults();
    } catch (error) {
      await db.close();
      throw error;
    }
    return engine;
  }

  #now(): number {
    return this.#options.now?.() ?? Date.now();
  }

  #loadRecords(): void {
    this.#records.clear();
    this.#byName.clear();
    for (const row of this.#db.mailboxes()) {
      const record = recordFromRow(row);
      this.#records.set(record.id, record);
      this.#byName.set(record.name, record.id);
      this.#recentFromById.set(record.id, record.uidNext);
    }
    this.#subscriptions.clear();
    for (const row of this.#db.statement('SELECT name FROM subscriptions').all() as { name: string }[])
      this.#subscriptions.add(row.name);
  }

  /**
   * What a crash may have left: after_commit actions not done yet (replayed: each is idempotent),
   * message files linked in for a transaction that never committed (from UIDNEXT up), mailbox
   * directories the index does not know (a CREATE that never committed).
   */
  async #recover(): Promise<void> {
    const pending = this.#db.statement('SELECT id, action FROM after_commit ORDER BY id').all() as {
      id: number;
      action: string;
    }[];
    for (const row of pending) {
      const action = decodeAfterCommit(row.action);
      if (action) await this.#perform(action);
      this.#doneActions.push(row.id);
    }
    for (const record of this.#records.values()) {
      if (!record.selectable) continue;
      await mkdir(this.paths.mailboxDir(record.id), { recursive: true });
      for (const uid of orphanUids(record.uidNext, (u) => existsSync(this.paths.messageFile(record.id, u))))
        await unlinkIfPresent(this.paths.messageFile(record.id, uid));
    }
    for (const entry of await readdir(this.paths.mailboxes)) {
      const id = Number(entry);
      const record = this.#records.get(id);
      if (!Number.isInteger(id) || !record || !record.selectable)
        await rm(join(this.paths.mailboxes, entry), { recursive: true, force: true });
    }
    if (this.#doneActions.length > 0) await this.#commit(() => undefined);
  }

  async #perform(action: AfterCommitAction): Promise<void> {
    switch (action.kind) {
      case 'unlink':
        await unlinkIfPresent(action.path);
        return;
      case 'remove-dir':
        await rm(action.path, { recursive: true, force: true });
        return;
      case 'write-mailbox-meta': {
        const record = this.#records.get(action.mailboxId);
        if (!record || !record.selectable) return;
        await this.#writeMailboxMeta(record, record.uidNext);
        return;
      }
      case 'write-subscriptions':
        await writeFileAtomic(this.paths.subscriptions, JSON.stringify([...this.#subscriptions].sort()));
        return;
      case 'check-placed':
        this.#dropUnplaced(action.mailboxId, action.first, action.last, (uid) =>
          existsSync(this.paths.messageFile(action.mailboxId, uid)),
        );
        return;
    }
  }

  /**
   * mailbox.json: name, UIDVALIDITY and a UIDNEXT floor for a rebuild. The floor never goes down
   * from what this process wrote (a reserve taken before an expunge stays when RENAME rewrites it).
   */
  async #writeMailboxMeta(record: MailboxRecord, floor: number): Promise<void> {
    const uidNextFloor = Math.max(floor, record.uidNext, this.#metaFloors.get(record.id) ?? 0);
    await mkdir(this.paths.mailboxDir(record.id), { recursive: true });
    await writeFileAtomic(
      this.paths.mailboxMeta(record.id),
      JSON.stringify({
        id: record.id,
        name: record.name,
        uidValidity: record.uidValidity,
        uidNextFloor,
        specialUse: record.specialUse ?? null,
      }),
    );
    this.#metaFloors.set(record.id, uidNextFloor);
  }

  /**
   * Removes the rows of messages [first, last] of a mailbox whose file is not there (a commit that
   * outran its directory's fsync, then a power loss; or that fsync failed), with their counters.
   * Their UIDs stay given out: UIDNEXT is not moved back. Never acknowledged, never announced.
   */
  #dropUnplaced(
    mailboxId: number,
    first: number,
    last: number,
    placed: (uid: number) => boolean,
    inMemory = true,
  ): void {
    const record = this.#records.get(mailboxId);
    if (!record) return;
    const rows = this.#db
      .statement('SELECT uid, flags, size FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ?')
      .all(mailboxId, first, last) as { uid: number; flags: number; size: number }[];
    const gone = rows.filter((row) => !placed(row.uid));
    if (gone.length === 0) return;
    const drop = { messages: gone.length, size: 0, unseen: 0, deleted: 0 };
    for (const row of gone) {
      drop.size += row.size;
      if ((row.flags & SEEN) === 0) drop.unseen++;
      if ((row.flags & DELETED) !== 0) drop.deleted++;
    }
    this.#transaction(() => {
      const del = this.#db.statement('DELETE FROM messages WHERE mailbox_id = ? AND uid = ?');
      for (const row of gone) del.run(mailboxId, row.uid);
      this.#db
        .statement(
          'UPDATE mailboxes SET messages = messages - ?, size = size - ?, unseen = unseen - ?, deleted = deleted - ? WHERE id = ?',
        )
        .run(drop.messages, drop.size, drop.unseen, drop.deleted, mailboxId);
    });
    if (!inMemory) return;
    record.messages -= drop.messages;
    record.size -= drop.size;
    record.unseen -= drop.unseen;
    record.deleted -= drop.deleted;
    const loaded = this.#loaded.get(mailboxId);
    for (const row of gone) loaded?.messages.delete(row.uid);
  }

  /** A transaction that also forgets after_commit rows already done; returns the new rows' ids. */
  #transaction<T>(work: (later: (action: AfterCommitAction) => void) => T): {
    result: T;
    actions: [number, AfterCommitAction][];
  } {
    const done = this.#doneActions;
    const actions: [number, AfterCommitAction][] = [];
    const result = this.#db.transaction(() => {
      if (done.length > 0) {
        const del = this.#db.statement('DELETE FROM after_commit WHERE id = ?');
        for (const id of done) del.run(id);
      }
      const insert = this.#db.statement('INSERT INTO after_commit (action) VALUES (?)');
      return work((action) => {
        const { lastInsertRowid } = insert.run(encodeAfterCommit(action));
        actions.push([Number(lastInsertRowid), action]);
      });
    });
    this.#doneActions = [];
    return { result, actions };
  }

  /**
   * A transaction, durable: the commit (synchronous, without an fsync of its own), then the WAL's
   * fsync on the thread pool (shared by concurrent commits of this account). Nothing is applied to
   * memory or acknowledged before this resolves.
   */
  async #commit<T>(
    work: (later: (action: AfterCommitAction) => void) => T,
  ): Promise<{ result: T; actions: [number, AfterCommitAction][] }> {
    const committed = this.#transaction(work);
    await this.#db.durable();
    return committed;
  }

  async #performAll(actions: [number, AfterCommitAction][]): Promise<void> {
    for (const [id, action] of actions) {
      await this.#perform(action);
      this.#doneActions.push(id);
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new StoreError('UNAVAILABLE', 'the store is shutting down');
  }

  #run<T>(work: () => T | Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new StoreError('UNAVAILABLE', 'the store is shutting down'));
    return this.#lock.run(async () => {
      this.#checkOpen();
      return await work();
    });
  }

  // ——— Folders ———————————————————————————————————————————————————————————————————————————————

  #recordByName(name: string): MailboxRecord | undefined {
    const id = this.#byName.get(name);
    return id === undefined ? undefined : this.#records.get(id);
  }

  /** The selectable mailbox a name refers to, or NONEXISTENT (with TRYCREATE where asked). */
  selectableMailbox(rawName: string, tryCreate = false): MailboxRecord {
    const name = normaliseMailboxName(rawName);
    const record = this.#recordByName(name);
    if (!record) throw new StoreError('NONEXISTENT', `no mailbox ${name}`, { tryCreate });
    if (!record.selectable)
      throw new StoreError(tryCreate ? 'NONEXISTENT' : 'CANNOT', `${name} holds no messages (\\Noselect)`, {
        tryCreate,
      });
    return record;
  }

  listMailboxes(): MailboxInfo[] {
    const names = [...this.#byName.keys()].sort();
    const parents = new Set(names.map(parentOf).filter((p): p is string => p !== undefined));
    return names.map((name) => {
      const record = this.#recordByName(name)!;
      const hasChildren = parents.has(name);
      const attributes = [
        ...(record.selectable ? [] : ['\\Noselect']),
        hasChildren ? '\\HasChildren' : '\\HasNoChildren',
        ...(record.specialUse ? [record.specialUse] : []),
      ];
      return {
        name,
        attributes,
        specialUse: record.specialUse,
        subscribed: this.#subscriptions.has(name),
        selectable: record.selectable,
        hasChildren,
      };
    });
  }

  listSubscriptions(): string[] {
    return [...this.#subscriptions].sort();
  }

  setSubscribed(rawName: string, subscribed: boolean): Promise<void> {
    const name = normaliseMailboxName(rawName);
    return this.#run(async () => {
      if (this.#subscriptions.has(name) === subscribed) return;
      const { actions } = await this.#commit((later) => {
        if (subscribed) this.#db.statement('INSERT OR IGNORE INTO subscriptions (name) VALUES (?)').run(name);
        else this.#db.statement('DELETE FROM subscriptions WHERE name = ?').run(name);
        later({ kind: 'write-subscriptions' });
      });
      if (subscribed) this.#subscriptions.add(name);
      else this.#subscriptions.delete(name);
      await this.#performAll(actions);
    });
  }

  #insertMailbox(
    name: string,
    selectable: boolean,
    specialUse: SpecialUse | undefined,
    later: (a: AfterCommitAction) => void,
  ) {
    const uidValidity = nextUidValidity(this.#db.getMeta('last_uid_validity') ?? 0, this.#now());
    this.#db.setMeta('last_uid_validity', uidValidity);
    const { lastInsertRowid } = this.#db
      .statement(
        'INSERT INTO mailboxes (name, selectable, special_use, uid_validity, uid_next, highest_modseq) VALUES (?, ?, ?, ?, 1, 1)',
      )
      .run(name, selectable ? 1 : 0, specialUse ?? null, uidValidity);
    const record: MailboxRecord = {
      id: Number(lastInsertRowid),
      name,
      selectable,
      specialUse,
      uidValidity,
      uidNext: 1,
      highestModseq: 1,
      messages: 0,
      size: 0,
      unseen: 0,
      deleted: 0,
    };
    if (selectable) later({ kind: 'write-mailbox-meta', mailboxId: record.id });
    return record;
  }

  #adopt(records: MailboxRecord[]): void {
    for (const record of records) {
      this.#records.set(record.id, record);
      this.#byName.set(record.name, record.id);
      if (!this.#recentFromById.has(record.id)) this.#recentFromById.set(record.id, record.uidNext);
    }
  }

  async #createDefaults(): Promise<void> {
    const { result, actions } = await this.#commit((later) => {
      const records = DEFAULT_MAILBOXES.map((m) => this.#insertMailbox(m.name, true, m.specialUse, later));
      for (const m of DEFAULT_MAILBOXES)
        this.#db.statement('INSERT OR IGNORE INTO subscriptions (name) VALUES (?)').run(m.name);
      later({ kind: 'write-subscriptions' });
      return records;
    });
    this.#adopt(result);
    for (const m of DEFAULT_MAILBOXES) this.#subscriptions.add(m.name);
    await this.#performAll(actions);
  }

  create(rawName: string, specialUse?: SpecialUse): Promise<void> {
    const name = normaliseMailboxName(rawName);
    return this.#run(async () => {
      const existing = this.#recordByName(name);
      if (existing?.selectable || isInbox(name)) throw new StoreError('ALREADYEXISTS', `${name} exists`);
      const missing = superiorsOf(name).filter((n) => !this.#byName.has(n));
      if (this.#records.size + missing.length + 1 > STORE_LIMITS.mailboxesPerAccount)
        throw new StoreError(
          'LIMIT',
          `an account holds at most ${STORE_LIMITS.mailboxesPerAccount} mailboxes`,
        );
      const { result, actions } = await this.#commit((later) => {
        // A \Noselect placeholder becomes a real mailbox: a new row, so it gets a fresh UIDVALIDITY.
        if (existing) this.#db.statement('DELETE FROM mailboxes WHERE id = ?').run(existing.id);
        return [
          ...missing.map((n) => this.#insertMailbox(n, true, undefined, later)),
          this.#insertMailbox(name, true, specialUse, later),
        ];
      });
      if (existing) this.#records.delete(existing.id);
      this.#adopt(result);
      await this.#performAll(actions);
    });
  }

  delete(rawName: string): Promise<void> {
    const name = normaliseMailboxName(rawName);
    return this.#run(async () => {
      const record = this.#recordByName(name);
      if (!record) throw new StoreError('NONEXISTENT', `no mailbox ${name}`);
      if (isInbox(name)) throw new StoreError('CANNOT', 'INBOX cannot be deleted');
      const hasChildren = [...this.#byName.keys()].some((n) => isInferiorOf(n, name));
      if (!record.selectable && hasChildren)
        throw new StoreError(
          'CANNOT',
          `${name} is \\Noselect and has inferiors: delete them first (RFC 9051 §6.3.5)`,
        );
      const emptyParents = this.#emptyPlaceholdersAbove(name);
      const { result, actions } = await this.#commit((later) => {
        this.#forgetMailbox(record, later);
        for (const p of emptyParents) this.#forgetMailbox(p, later);
        // With inferiors, the name stays as a \Noselect placeholder (RFC 9051 §6.3.5).
        return hasChildren ? this.#insertMailbox(name, false, undefined, later) : undefined;
      });
      this.#records.delete(record.id);
      this.#byName.delete(name);
      for (const p of emptyParents) {
        this.#records.delete(p.id);
        this.#byName.delete(p.name);
      }
      if (result) this.#adopt([result]);
      this.#gone(record.id, undefined);
      await this.#performAll(actions);
    });
  }

  /** \Noselect placeholders above `name` that have no inferior left once `name` goes. */
  #emptyPlaceholdersAbove(name: string): MailboxRecord[] {
    const out: MailboxRecord[] = [];
    let parent = parentOf(name);
    const removed = new Set([name]);
    while (parent !== undefined) {
      const record = this.#recordByName(parent);
      if (!record || record.selectable) break;
      const p = parent;
      const others = [...this.#byName.keys()].filter((n) => isInferiorOf(n, p) && !removed.has(n));
      if (others.length > 0) break;
      out.push(record);
      removed.add(parent);
      parent = parentOf(parent);
    }
    return out;
  }

  #forgetMailbox(record: MailboxRecord, later: (a: AfterCommitAction) => void): void {
    for (const table of ['messages', 'tombstones', 'message_cache'])
      this.#db.statement(`DELETE FROM ${table} WHERE mailbox_id = ?`).run(record.id);
    this.#db.statement('DELETE FROM mailboxes WHERE id = ?').run(record.id);
    this.#metaFloors.delete(record.id); // its mailbox.json goes; an id given again starts unknown
    if (record.selectable) later({ kind: 'remove-dir', path: this.paths.mailboxDir(record.id) });
  }

  #gone(id: number, renamedTo: string | undefined): void {
    const loaded = this.#loaded.get(id);
    if (!loaded) return;
    if (renamedTo === undefined) {
      loaded.gone = true;
      this.#loaded.delete(id);
      this.#options.retained?.release(loaded);
    }
    for (const view of loaded.views) view.queue({ kind: 'mailboxGone', renamedTo });
  }

  rename(rawFrom: string, rawTo: string): Promise<void> {
    const from = normaliseMailboxName(rawFrom);
    const to = normaliseMailboxName(rawTo);
    return this.#run(async () => {
      const source = this.#recordByName(from);
      if (!source) throw new StoreError('NONEXISTENT', `no mailbox ${from}`);
      const pairs = planRename([...this.#byName.keys()], from, to);
      const renamed = new Set(pairs.map(([, n]) => n));
      const missing = superiorsOf(to).filter((n) => !this.#byName.has(n) && !renamed.has(n));
      const emptyParents = isInbox(from) ? [] : this.#emptyPlaceholdersAbove(from);
      const { result, actions } = await this.#commit((later) => {
        const setName = this.#db.statement('UPDATE mailboxes SET name = ? WHERE id = ?');
        const moved: [MailboxRecord, string][] = [];
        // Two passes so that a rename never collides with a name it frees in the same step.
        for (const [old] of pairs) setName.run(`\u0000${old}`, this.#recordByName(old)!.id);
        for (const [old, next] of pairs) {
          const record = this.#recordByName(old)!;
          setName.run(next, record.id);
          moved.push([record, next]);
          if (record.selectable) later({ kind: 'write-mailbox-meta', mailboxId: record.id });
        }
        for (const p of emptyParents) this.#forgetMailbox(p, later);
        const created = missing.map((n) => this.#insertMailbox(n, true, undefined, later));
        // RENAME INBOX (RFC 9051 §6.3.6): the messages go with the renamed mailbox; INBOX starts anew.
        if (isInbox(from)) created.push(this.#insertMailbox('INBOX', true, undefined, later));
        const subs = this.#db.statement('UPDATE OR REPLACE subscriptions SET name = ? WHERE name = ?');
        for (const [old, next] of pairs) if (this.#subscriptions.has(old)) subs.run(next, old);
        later({ kind: 'write-subscriptions' });
        return { moved, created };
      });
      for (const [old] of pairs) this.#byName.delete(old);
      for (const p of emptyParents) {
        this.#records.delete(p.id);
        this.#byName.delete(p.name);
      }
      for (const [record, next] of result.moved) {
        record.name = next;
        this.#byName.set(next, record.id);
        if (this.#subscriptions.delete(pairs.find(([, n]) => n === next)![0])) this.#subscriptions.add(next);
        this.#gone(record.id, next);
      }
      this.#adopt(result.created);
      // The records are updated: now the metadata files can say the new names.
      await this.#performAll(actions);
    });
  }

  status(rawName: string): MailboxStatus {
    const record = this.selectableMailbox(rawName);
    const loaded = this.#loaded.get(record.id);
    const recentFrom = this.#recentFrom(record);
    // Without the messages in memory, UIDs from recentFrom up are an upper bound (some may be gone).
    let recent = Math.min(record.messages, record.uidNext - recentFrom);
    if (loaded) {
      recent = 0;
      for (const uid of loaded.messages.keys()) if (uid >= recentFrom) recent++;
    }
    return {
      messages: record.messages,
      recent,
      uidNext: record.uidNext,
      uidValidity: record.uidValidity,
      unseen: record.unseen,
      deleted: record.deleted,
      size: record.size,
      highestModseq: record.highestModseq,
    };
  }

  quota(): Quota {
    let bytes = 0;
    let messages = 0;
    for (const record of this.#records.values()) {
      bytes += record.size;
      messages += record.messages;
    }
    return {
      root: '',
      storage: { usage: bytes, limit: this.#options.quota.storageBytes },
      messages: { usage: messages, limit: this.#options.quota.messages },
    };
  }

  // ——— Views ————————————————————————————————————————————————————————————————————————————————

  /** Loads (or shares) a mailbox's messages for a new view; the view registers itself. */
  attach(record: MailboxRecord, view: ViewSink): LoadedMailbox {
    let loaded = this.#loaded.get(record.id);
    if (loaded && loaded.views.size === 0) this.#options.retained?.release(loaded);
    if (!loaded) {
      const messages = new Map<number, StoredMessage>();
      let keywords: readonly string[] = [];
      for (const row of this.#db.messages(record.id)) {
        // Committed by an append or delivery that has not yet come back from its fsync: memory
        // gets it from there (with UIDNEXT and the counts), and the sessions are told then.
        if (row.uid >= record.uidNext) continue;
        const message = storedFromRow(row);
        messages.set(message.uid, message);
        if (message.flagSet.keywords.length > 0)
          keywords = mergeKeywordsLoose(keywords, message.flagSet.keywords);
      }
      loaded = { record, messages, keywords, views: new Set(), gone: false };
      this.#loaded.set(record.id, loaded);
    }
    loaded.views.add(view);
    return loaded;
  }

  detach(loaded: LoadedMailbox, view: ViewSink): void {
    loaded.views.delete(view);
    if (loaded.views.size > 0 || this.#loaded.get(loaded.record.id) !== loaded) return;
    const kept =
      !this.#closed &&
      (this.#options.retained?.retain(loaded, loaded.messages.size, () => this.#unload(loaded)) ?? false);
    if (!kept) this.#loaded.delete(loaded.record.id);
  }

  /** Drops a retained mailbox's messages (the budget wants the room); the next SELECT reads the index. */
  #unload(loaded: LoadedMailbox): void {
    if (loaded.views.size === 0 && this.#loaded.get(loaded.record.id) === loaded)
      this.#loaded.delete(loaded.record.id);
  }

  /** \Recent for a new read-write view: the UIDs no one was told of, which are now this view's. */
  claimRecent(loaded: LoadedMailbox): number {
    const from = this.#recentFrom(loaded.record);
    this.#recentFromById.set(loaded.record.id, loaded.record.uidNext);
    return from;
  }

  /**
   * The first UID no session was told of as \Recent yet (RFC 3501 §2.3.2). Kept in memory only:
   * after a restart nothing older is \Recent, which IMAP4rev1 allows and IMAP4rev2 no longer has.
   */
  #recentFrom(record: MailboxRecord): number {
    let from = this.#recentFromById.get(record.id);
    if (from === undefined) {
      from = record.uidNext;
      this.#recentFromById.set(record.id, from);
    }
    return from;
  }

  #notify(loaded: LoadedMailbox | undefined, change: MailboxChange, except?: ViewSink): void {
    if (!loaded) return;
    for (const view of loaded.views) if (view !== except && !view.closed) view.queue(change);
  }

  #notifyExists(loaded: LoadedMailbox | undefined, added: StoredMessage[]): void {
    if (!loaded || added.length === 0) return;
    let claimer: ViewSink | undefined;
    for (const view of loaded.views) if (!view.readOnly && !view.closed) claimer ??= view;
    if (claimer) this.#recentFromById.set(loaded.record.id, loaded.record.uidNext);
    for (const view of loaded.views) {
      if (view.closed) continue;
      const messages = view === claimer ? added.map((m) => ({ ...m, recent: true })) : added;
      view.queue({ kind: 'exists', messages });
    }
  }

  // ——— Adding messages ——————————————————————————————————————————————————————————————————————

  #dirSync(id: number): DirectorySync {
    let sync = this.#dirSyncs.get(id);
    if (!sync) {
      sync = new DirectorySync(this.paths.mailboxDir(id));
      this.#dirSyncs.set(id, sync);
    }
    return sync;
  }

  /**
   * Brings files in as new messages of one mailbox, atomically: all or none become visible. The
   * quota is checked here, under the lock, so two concurrent deliveries cannot both pass it.
   */
  addMessages(
    target: () => MailboxRecord,
    items: readonly NewMessage[],
  ): Promise<{ record: MailboxRecord; uids: number[]; modseq: number }> {
    return this.#run(() => this.addMessagesLocked(target(), items, { checkQuota: true }));
  }

  /**
   * One delivery to INBOX. Deliveries that arrive while a commit is running wait for the next one,
   * and that one takes them all: one directory fsync and one index commit for the group (group
   * commit — the same idea as DirectorySync), so ten concurrent LMTP sessions cost about one fsync
   * pair, not ten. The quota is checked per message, in arrival order.
   */
  deliverToInbox(item: NewMessage): Promise<{ uid: number; uidValidity: number } | 'overQuota'> {
    return new Promise((resolve, reject) => {
      this.#deliveries.push({ item, resolve, reject });
      if (this.#deliveriesFlushing) return;
      this.#deliveriesFlushing = true;
      void this.#flushDeliveries();
    });
  }

  async #flushDeliveries(): Promise<void> {
    while (this.#deliveries.length > 0) {
      const batch = this.#deliveries.splice(0, DELIVERY_BATCH);
      const accepted: PendingDelivery[] = [];
      try {
        await this.#run(async () => {
          const record = this.selectableMailbox('INBOX');
          const quota = this.quota();
          let messages = 0;
          let bytes = 0;
          for (const pending of batch) {
            if (quotaAllows(quota, messages + 1, bytes + pending.item.size)) {
              messages++;
              bytes += pending.item.size;
              accepted.push(pending);
            } else pending.resolve('overQuota');
          }
          if (accepted.length === 0) return;
          const { uids } = await this.addMessagesLocked(
            record,
            accepted.map((p) => p.item),
            { checkQuota: false },
          );
          accepted.forEach((p, i) => p.resolve({ uid: uids[i]!, uidValidity: record.uidValidity }));
        });
      } catch (error) {
        for (const pending of accepted) pending.reject(error);
      }
    }
    this.#deliveriesFlushing = false;
  }

  async addMessagesLocked(
    record: MailboxRecord,
    items: readonly NewMessage[],
    options: {
      checkQuota: boolean;
      afterCommit?: (modseq: number) => void;
      inTransaction?: (modseq: number, later: (a: AfterCommitAction) => void) => void;
    },
  ): Promise<{ record: MailboxRecord; uids: number[]; modseq: number }> {
    if (this.#records.get(record.id) !== record)
      throw new StoreError('NONEXISTENT', `${record.name} was deleted`, { tryCreate: true });
    const bytes = items.reduce((sum, item) => sum + item.size, 0);
    if (options.checkQuota && !quotaAllows(this.quota(), items.length, bytes))
      throw new StoreError('OVERQUOTA', `${this.user} is over quota`);
    // Refused before anything is written: keywords past the mailbox's limit (checked again below
    // against what is loaded by then).
    const loadedBefore = this.#loaded.get(record.id);
    let keywordsBefore = loadedBefore?.keywords;
    for (const item of items)
      if (item.flags.keywords.length > 0 && keywordsBefore)
        keywordsBefore = mergeKeywords(keywordsBefore, item.flags.keywords);
    const { uids, uidNext } = assignUids(record.uidNext, items.length);
    const placed: string[] = [];
    // The directory's fsync and the commit's WAL fsync run at once (one journal commit on ext4,
    // not two in a row), and the commit records a check-placed action for the window between them.
    // A MOVE removes its sources in the same commit, so it waits for the directory first: a power
    // loss must not leave the message in neither place.
    const together = options.inTransaction === undefined;
    let dirSynced: Promise<void> | undefined;
    try {
      for (let i = 0; i < items.length; i++) {
        const item = items[i]!;
        const final = this.paths.messageFile(record.id, uids[i]!);
        if (item.how === 'rename') await rename(item.path, final);
        else await link(item.path, final);
        placed.push(final);
      }
      dirSynced = this.#dirSync(record.id).sync();
      if (!together) await dirSynced;
    } catch (error) {
      await dirSynced?.catch(() => undefined);
      for (const path of placed) await unlinkIfPresent(path);
      throw error;
    }
    dirSynced.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
    const modseq = record.highestModseq + 1;
    let counts = { unseen: 0, deleted: 0 };
    let actions: [number, AfterCommitAction][];
    let checkId: number | undefined;
    try {
      ({ actions } = this.#transaction((later) => {
        const insert = this.#db.statement(
          'INSERT INTO messages (mailbox_id, uid, flags, keywords, modseq, internal_date, size) VALUES (?, ?, ?, ?, ?, ?, ?)',
        );
        items.forEach((item, i) => {
          const c = countsOf(item.flags);
          counts = { unseen: counts.unseen + c.unseen, deleted: counts.deleted + c.deleted };
          insert.run(
            record.id,
            uids[i]!,
            item.flags.system,
            item.flags.keywords.length > 0 ? JSON.stringify(item.flags.keywords) : null,
            modseq,
            item.internalDate,
            item.size,
          );
        });
        this.#db
          .statement(
            'UPDATE mailboxes SET uid_next = ?, highest_modseq = ?, messages = messages + ?, size = size + ?, unseen = unseen + ?, deleted = deleted + ? WHERE id = ?',
          )
          .run(uidNext, modseq, items.length, bytes, counts.unseen, counts.deleted, record.id);
        options.inTransaction?.(modseq, later);
        if (together)
          later({
            kind: 'check-placed',
            mailboxId: record.id,
            first: uids[0]!,
            last: uids[uids.length - 1]!,
          });
      }));
    } catch (error) {
      await dirSynced.catch(() => undefined);
      for (const path of placed) await unlinkIfPresent(path);
      throw error;
    }
    const check = actions.findIndex(([, action]) => action.kind === 'check-placed');
    if (check >= 0) [[checkId]] = actions.splice(check, 1) as [[number, AfterCommitAction]];
    const [dirResult, walResult] = await Promise.allSettled([dirSynced, this.#db.durable()]);
    if (walResult.status === 'rejected') throw walResult.reason;
    if (dirResult.status === 'rejected') {
      // Committed, but the files may not survive a power loss: take the rows back out, then fail.
      this.#dropUnplaced(record.id, uids[0]!, uids[uids.length - 1]!, () => false, false);
      await this.#db.durable();
      record.uidNext = uidNext; // given out in the index: never again
      record.highestModseq = modseq;
      for (const path of placed) await unlinkIfPresent(path);
      throw dirResult.reason;
    }
    if (checkId !== undefined) this.#doneActions.push(checkId);
    record.uidNext = uidNext;
    record.highestModseq = modseq;
    record.messages += items.length;
    record.size += bytes;
    record.unseen += counts.unseen;
    record.deleted += counts.deleted;
    const added = items.map((item, i): StoredMessage => ({
      uid: uids[i]!,
      flagSet: item.flags,
      flags: flagStrings(item.flags),
      modseq,
      internalDate: item.internalDate,
      size: item.size,
      recent: false,
    }));
    // What is loaded now, not what was before the files and the commit were awaited: a SELECT in
    // between loaded the mailbox from the index without these (attach leaves out UIDs from UIDNEXT
    // up), and its sessions are told of them here. A mailbox that stays loaded after its sessions
    // (retained-mailboxes.ts) would otherwise miss them for good.
    const loaded = this.#loaded.get(record.id);
    const fresh = loaded ? added.filter((m) => !loaded.messages.has(m.uid)) : added;
    if (loaded) {
      for (const m of fresh) {
        loaded.messages.set(m.uid, m);
        if (m.flagSet.keywords.length > 0)
          loaded.keywords = mergeKeywordsLoose(loaded.keywords, m.flagSet.keywords);
      }
      if (loaded.views.size === 0) this.#options.retained?.resize(loaded, loaded.messages.size);
    }
    options.afterCommit?.(modseq);
    this.#notifyExists(loaded, fresh);
    await this.#performAll(actions);
    return { record, uids, modseq };
  }

  // ——— Changing and removing messages (through a view) ————————————————————————————————————————

  storeFlags(loaded: LoadedMailbox, origin: ViewSink, request: StoreFlagsRequest): Promise<StoreFlagsResult> {
    return this.#run(async () => {
      const change = parseFlags(request.flags);
      this.#checkLoaded(loaded);
      const record = loaded.record;
      const keywords =
        request.mode === 'remove' ? loaded.keywords : mergeKeywords(loaded.keywords, change.keywords);
      const modseq = record.highestModseq + 1;
      const results: (MessageMeta & { changed: boolean })[] = [];
      const modified: number[] = [];
      const updates: StoredMessage[] = [];
      let unseenDelta = 0;
      let deletedDelta = 0;
      for (const uid of [...new Set(request.uids)].sort((a, b) => a - b)) {
        const message = loaded.messages.get(uid);
        if (!message) continue;
        if (request.unchangedSince !== undefined && message.modseq > request.unchangedSince) {
          modified.push(uid);
          continue;
        }
        const next = applyStore(message.flagSet, request.mode, change);
        if (sameFlags(next, message.flagSet)) {
          results.push({ ...message, changed: false });
          continue;
        }
        const before = countsOf(message.flagSet);
        const after = countsOf(next);
        unseenDelta += after.unseen - before.unseen;
        deletedDelta += after.deleted - before.deleted;
        const updated = withFlags(message, next, modseq);
        updates.push(updated);
        results.push({ ...updated, changed: true });
      }
      if (updates.length > 0) {
        await this.#commit(() => {
          const update = this.#db.statement(
            'UPDATE messages SET flags = ?, keywords = ?, modseq = ? WHERE mailbox_id = ? AND uid = ?',
          );
          for (const m of updates)
            update.run(
              m.flagSet.system,
              m.flagSet.keywords.length ? JSON.stringify(m.flagSet.keywords) : null,
              modseq,
              record.id,
              m.uid,
            );
          this.#db
            .statement(
              'UPDATE mailboxes SET highest_modseq = ?, unseen = unseen + ?, deleted = deleted + ? WHERE id = ?',
            )
            .run(modseq, unseenDelta, deletedDelta, record.id);
        });
        record.highestModseq = modseq;
        record.unseen += unseenDelta;
        record.deleted += deletedDelta;
        loaded.keywords = keywords;
        for (const m of updates) {
          loaded.messages.set(m.uid, m);
          this.#notify(loaded, { kind: 'flags', uid: m.uid, flags: m.flags, modseq }, origin);
        }
      }
      return { messages: results, modified };
    });
  }

  #checkLoaded(loaded: LoadedMailbox): void {
    if (loaded.gone || this.#records.get(loaded.record.id) !== loaded.record)
      throw new StoreError('NONEXISTENT', `${loaded.record.name} was deleted by another session`);
  }

  expunge(
    loaded: LoadedMailbox,
    origin: ViewSink,
    uids: readonly number[] | undefined,
    onlyDeleted: boolean,
  ): Promise<ExpungeResult> {
    return this.#run(async () => {
      this.#checkLoaded(loaded);
      const candidates = uids ? [...new Set(uids)].sort((a, b) => a - b) : [...loaded.messages.keys()];
      const chosen = candidates.filter((uid) => {
        const m = loaded.messages.get(uid);
        return m !== undefined && (!onlyDeleted || (m.flagSet.system & DELETED) !== 0);
      });
      if (chosen.length === 0) return { uids: [], modseq: loaded.record.highestModseq };
      const modseq = await this.#removeLocked(loaded, chosen);
      this.#notify(loaded, { kind: 'expunge', uids: chosen, modseq }, origin);
      return { uids: chosen, modseq };
    });
  }

  /**
   * What removing messages (expunge, move out) changes, computed before the transaction. When the
   * newest message goes, mailbox.json first records UIDNEXT: a rebuilt index takes UIDNEXT from the
   * files, and must never give that UID out again.
   */
  async #planRemoval(loaded: LoadedMailbox, uids: readonly number[]): Promise<Removal> {
    const record = loaded.record;
    let newest = 0;
    for (const uid of loaded.messages.keys()) if (uid > newest) newest = uid;
    const floor = uids.includes(newest)
      ? uidFloorBeforeExpunge(newest, record.uidNext, this.#metaFloors.get(record.id))
      : undefined;
    if (floor !== undefined) await this.#writeMailboxMeta(record, floor);
    const removal: Removal = {
      loaded,
      uids,
      modseq: record.highestModseq + 1,
      bytes: 0,
      unseen: 0,
      deleted: 0,
    };
    for (const uid of uids) {
      const m = loaded.messages.get(uid)!;
      const c = countsOf(m.flagSet);
      removal.bytes += m.size;
      removal.unseen += c.unseen;
      removal.deleted += c.deleted;
    }
    return removal;
  }

  /** Inside a transaction: the rows go, a tombstone of each stays for QRESYNC, the files are owed. */
  #removeRows(r: Removal, later: (a: AfterCommitAction) => void): void {
    const id = r.loaded.record.id;
    const del = this.#db.statement('DELETE FROM messages WHERE mailbox_id = ? AND uid = ?');
    const delCache = this.#db.statement('DELETE FROM message_cache WHERE mailbox_id = ? AND uid = ?');
    const tomb = this.#db.statement(
      'INSERT OR REPLACE INTO tombstones (mailbox_id, uid, modseq) VALUES (?, ?, ?)',
    );
    for (const uid of r.uids) {
      del.run(id, uid);
      delCache.run(id, uid);
      tomb.run(id, uid, r.modseq);
      later({ kind: 'unlink', path: this.paths.messageFile(id, uid) });
    }
    this.#db
      .statement(
        'UPDATE mailboxes SET highest_modseq = ?, messages = messages - ?, size = size - ?, unseen = unseen - ?, deleted = deleted - ? WHERE id = ?',
      )
      .run(r.modseq, r.uids.length, r.bytes, r.unseen, r.deleted, id);
  }

  /** After the commit: memory says what the index says. */
  #applyRemoval(r: Removal): void {
    const record = r.loaded.record;
    record.highestModseq = r.modseq;
    record.messages -= r.uids.length;
    record.size -= r.bytes;
    record.unseen -= r.unseen;
    record.deleted -= r.deleted;
    for (const uid of r.uids) r.loaded.messages.delete(uid);
  }

  async #removeLocked(loaded: LoadedMailbox, uids: readonly number[]): Promise<number> {
    const removal = await this.#planRemoval(loaded, uids);
    const { actions } = await this.#commit((later) => this.#removeRows(removal, later));
    this.#applyRemoval(removal);
    await this.#performAll(actions);
    return removal.modseq;
  }

  copy(loaded: LoadedMailbox, uids: readonly number[], destination: string): Promise<CopyResult> {
    return this.#run(async () => {
      this.#checkLoaded(loaded);
      const target = this.selectableMailbox(destination, true);
      const sources = this.#sources(loaded, uids);
      const { uids: newUids } = await this.addMessagesLocked(target, sources.map(this.#linkItem(loaded)), {
        checkQuota: true,
      });
      return {
        uidValidity: target.uidValidity,
        mapping: sources.map((m, i) => [m.uid, newUids[i]!] as const),
      };
    });
  }

  move(
    loaded: LoadedMailbox,
    origin: ViewSink,
    uids: readonly number[],
    destination: string,
  ): Promise<MoveResult> {
    return this.#run(async () => {
      this.#checkLoaded(loaded);
      const target = this.selectableMailbox(destination, true);
      const sources = this.#sources(loaded, uids);
      if (target.id === loaded.record.id) throw new StoreError('CANNOT', 'MOVE into the same mailbox');
      if (sources.length === 0)
        return {
          uidValidity: target.uidValidity,
          mapping: [],
          expunged: [],
          modseq: loaded.record.highestModseq,
        };
      // One transaction adds the copies and removes the originals (RFC 6851 §3.3: atomic). The
      // copies are links to the same files; a move within an account never needs quota.
      const moved = sources.map((m) => m.uid);
      const removal = await this.#planRemoval(loaded, moved);
      const { uids: newUids } = await this.addMessagesLocked(target, sources.map(this.#linkItem(loaded)), {
        checkQuota: false,
        inTransaction: (_modseq, later) => this.#removeRows(removal, later),
        afterCommit: () => {
          this.#applyRemoval(removal);
          this.#notify(loaded, { kind: 'expunge', uids: moved, modseq: removal.modseq }, origin);
        },
      });
      return {
        uidValidity: target.uidValidity,
        mapping: sources.map((m, i) => [m.uid, newUids[i]!] as const),
        expunged: moved,
        modseq: removal.modseq,
      };
    });
  }

  #sources(loaded: LoadedMailbox, uids: readonly number[]): StoredMessage[] {
    const out: StoredMessage[] = [];
    for (const uid of [...new Set(uids)].sort((a, b) => a - b)) {
      const m = loaded.messages.get(uid);
      if (m) out.push(m);
    }
    return out;
  }

  #linkItem(loaded: LoadedMailbox) {
    return (m: StoredMessage): NewMessage => ({
      path: this.paths.messageFile(loaded.record.id, m.uid),
      how: 'link',
      size: m.size,
      flags: m.flagSet,
      internalDate: m.internalDate,
    });
  }

  vanishedSince(loaded: LoadedMailbox, modseq: number, uids?: readonly number[]): number[] {
    const rows = this.#db
      .statement('SELECT uid FROM tombstones WHERE mailbox_id = ? AND modseq > ? ORDER BY uid')
      .all(loaded.record.id, modseq) as { uid: number }[];
    const all = rows.map((r) => r.uid);
    if (!uids) return all;
    const wanted = new Set(uids);
    return all.filter((u) => wanted.has(u));
  }

  getCached(loaded: LoadedMailbox, uid: number, key: string): string | undefined {
    const row = this.#db
      .statement('SELECT value FROM message_cache WHERE mailbox_id = ? AND uid = ? AND key = ?')
      .get(loaded.record.id, uid, key) as { value: string } | undefined;
    return row?.value;
  }

  putCached(loaded: LoadedMailbox, uid: number, key: string, value: string): void {
    if (Buffer.byteLength(value) > STORE_LIMITS.cacheValueBytes)
      throw new StoreError('LIMIT', `a cached value is at most ${STORE_LIMITS.cacheValueBytes} bytes`);
    if (!loaded.messages.has(uid)) return;
    // A cache entry can be computed again: it is not waited for (the next commit's WAL fsync
    // makes it durable along with whatever that commit writes).
    this.#db
      .statement('INSERT OR REPLACE INTO message_cache (mailbox_id, uid, key, value) VALUES (?, ?, ?, ?)')
      .run(loaded.record.id, uid, key, value);
  }

  /** Waits for what is in flight, writes the done after_commit rows away, closes the index. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return this.#lock.run(async () => {
      if (this.#closed) return;
      if (this.#doneActions.length > 0) await this.#commit(() => undefined);
      this.#closed = true;
      for (const loaded of this.#loaded.values()) this.#options.retained?.release(loaded);
      this.#loaded.clear();
      for (const sync of this.#dirSyncs.values()) await sync.close();
      await this.#db.close();
    });
  }

  get closed(): boolean {
    return this.#closed;
  }
}

function mergeKeywordsLoose(known: readonly string[], more: readonly string[]): readonly string[] {
  try {
    return mergeKeywords(known, more);
  } catch (error) {
    if (isStoreError(error, 'LIMIT')) return known;
    throw error;
  }
}
