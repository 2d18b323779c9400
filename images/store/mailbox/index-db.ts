// The account's index in SQLite (node:sqlite). It earns its place: one account's mailboxes,
// messages, tombstones and caches change together in transactions, and SQLite's WAL makes each
// commit atomic, and durable with one fsync of the WAL — the thing a hand-made
// index file would have to reinvent (Dovecot's index needs its own log, cache and recovery code).
//
// The index commits last: message files are in place and synced before the commit that makes them
// visible, and files are removed only after the commit that forgets them (after_commit rows say
// which, so a crash between the two is finished at the next open).
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { DirectorySync } from './message-files.ts';

export const INDEX_FORMAT_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS mailboxes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  selectable INTEGER NOT NULL,
  special_use TEXT,
  uid_validity INTEGER NOT NULL,
  uid_next INTEGER NOT NULL,
  highest_modseq INTEGER NOT NULL,
  messages INTEGER NOT NULL DEFAULT 0,
  size INTEGER NOT NULL DEFAULT 0,
  unseen INTEGER NOT NULL DEFAULT 0,
  deleted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS messages (
  mailbox_id INTEGER NOT NULL,
  uid INTEGER NOT NULL,
  flags INTEGER NOT NULL,
  keywords TEXT,
  modseq INTEGER NOT NULL,
  internal_date INTEGER NOT NULL,
  size INTEGER NOT NULL,
  PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tombstones (
  mailbox_id INTEGER NOT NULL,
  uid INTEGER NOT NULL,
  modseq INTEGER NOT NULL,
  PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS subscriptions (name TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS message_cache (
  mailbox_id INTEGER NOT NULL,
  uid INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (mailbox_id, uid, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS after_commit (id INTEGER PRIMARY KEY, action TEXT NOT NULL);
`;

export interface MailboxRow {
  id: number;
  name: string;
  selectable: number;
  special_use: string | null;
  uid_validity: number;
  uid_next: number;
  highest_modseq: number;
  messages: number;
  size: number;
  unseen: number;
  deleted: number;
}

export interface MessageRow {
  uid: number;
  flags: number;
  keywords: string | null;
  modseq: number;
  internal_date: number;
  size: number;
}

/** The prepared statements the engine uses, named for what they do. */
export class IndexDb {
  readonly db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();

  readonly #walSync: DirectorySync;

  private constructor(db: DatabaseSync, path: string) {
    this.db = db;
    // DirectorySync opens a path and fsyncs it, sharing one fsync between concurrent callers: the
    // same group commit works for the WAL file.
    this.#walSync = new DirectorySync(`${path}-wal`);
  }

  /** Makes every commit so far durable: one fsync of the WAL, shared by concurrent callers. */
  durable(): Promise<void> {
    return this.#walSync.sync();
  }

  /** Opens (creating if `create`) and checks the format; throws on a file that is not our index. */
  static open(path: string, create: boolean): IndexDb {
    const db = new DatabaseSync(path, { open: true, timeout: 5000 });
    try {
      // WAL: readers never block the writer; FULL: the WAL is fsynced at every commit, so a commit
      // that returned survives power loss, not only a process crash.
      // One process owns the data directory: an exclusive lock keeps a second store process out,
      // and lets WAL work without a shared-memory file. Set before WAL is first used.
      db.exec('PRAGMA locking_mode = EXCLUSIVE;');
      // NORMAL: a commit does not fsync on the event loop's thread; durable() fsyncs the WAL on the
      // thread pool before anything is acknowledged, which gives what FULL gives (a commit that was
      // acknowledged survives power loss) without stalling every other session for the fsync.
      db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
      const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
      if (version === 0) {
        const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as {
          n: number;
        };
        if (tables.n > 0 || !create) throw new Error('the index has no format version');
        db.exec(`BEGIN; ${SCHEMA} PRAGMA user_version = ${INDEX_FORMAT_VERSION}; COMMIT;`);
      } else if (version !== INDEX_FORMAT_VERSION) {
        throw new Error(`the index has format ${version}; this store reads ${INDEX_FORMAT_VERSION}`);
      }
    } catch (error) {
      db.close();
      throw error;
    }
    return new IndexDb(db, path);
  }

  statement(sql: string): StatementSync {
    let s = this.#statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.#statements.set(sql, s);
    }
    return s;
  }

  /** Runs `work` in one transaction: all of it is committed (and fsynced) or none of it. */
  transaction<T>(work: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = work();
      this.db.exec('COMMIT');
      return result;
    } catch (error) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw error;
    }
  }

  getMeta(key: string): number | undefined {
    const row = this.statement('SELECT value FROM meta WHERE key = ?').get(key) as
      { value: number } | undefined;
    return row?.value;
  }

  setMeta(key: string, value: number): void {
    this.statement(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ).run(key, value);
  }

  mailboxes(): MailboxRow[] {
    return this.statement('SELECT * FROM mailboxes ORDER BY name').all() as unknown as MailboxRow[];
  }

  messages(mailboxId: number): MessageRow[] {
    return this.statement(
      'SELECT uid, flags, keywords, modseq, internal_date, size FROM messages WHERE mailbox_id = ? ORDER BY uid',
    ).all(mailboxId) as unknown as MessageRow[];
  }

  async close(): Promise<void> {
    this.#statements.clear();
    await this.#walSync.close();
    if (this.db.isOpen) this.db.close();
  }
}
