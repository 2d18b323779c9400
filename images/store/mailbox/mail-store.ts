// The MessageStore of api.ts: every account of this replica, opened on demand, shared by all the
// sessions of a user in this process, closed a while after the last session leaves.
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  isStoreError,
  MAILBOX_DELIMITER,
  StoreError,
  type Account,
  type AppendBatch,
  type AppendItem,
  type AppendResult,
  type CreateOptions,
  type DeliveryOutcome,
  type DeliveryRequest,
  type IncomingMessage,
  type MailboxInfo,
  type MailboxStatus,
  type MailboxView,
  type MessageStore,
  type OpenMailboxOptions,
  type Quota,
} from './api.ts';
import { attempt } from './attempt.ts';
import { AccountEngine, type NewMessage } from './account-engine.ts';
import type { QuotaLimits } from './decisions.ts';
import { parseFlags } from './flags.ts';
import { storeTmpDir } from './layout.ts';
import { MailboxViewImpl } from './mailbox-view.ts';
import { TmpMessageFile, unlinkIfPresent, writeTmpMessage, type WrittenMessage } from './message-files.ts';
import type { RebuildReport } from './rebuild.ts';
import { RetainedMailboxes } from './retained-mailboxes.ts';
import { STORE_LIMITS } from '../limits.ts';

export interface MailStoreOptions {
  dataDir: string;
  quota: QuotaLimits;
  maxMessageBytes: number;
  now?: () => number;
  /** For metrics and logs: an index was rebuilt from the files. */
  onRebuild?: (user: string, report: RebuildReport) => void;
  /** For metrics: a message was stored (delivery or append), with its size. */
  onStored?: (how: 'delivery' | 'append' | 'copy', bytes: number) => void;
  idleAccountKeepMs?: number;
  /** Accounts kept open with no session at most (STORE_LIMITS). */
  idleAccountsKept?: number;
  /** Messages of mailboxes no session has selected kept loaded, for the process (STORE_LIMITS). */
  retainedMessages?: number;
}

export class MailStore implements MessageStore {
  readonly #options: MailStoreOptions;
  readonly #tmp: string;
  readonly #accounts = new Map<string, Promise<AccountEngine>>();
  /** Accounts no session holds, oldest first, with the timer that closes each. */
  readonly #idle = new Map<string, { engine: AccountEngine; timer: NodeJS.Timeout }>();
  readonly #closingAccounts = new Map<string, Promise<void>>();
  #closing = false;
  #inFlight = new Set<Promise<unknown>>();
  readonly #retained: RetainedMailboxes;

  private constructor(options: MailStoreOptions) {
    this.#options = options;
    this.#retained = new RetainedMailboxes(options.retainedMessages ?? STORE_LIMITS.retainedMessages);
    this.#tmp = storeTmpDir(options.dataDir);
  }

  /** Prepares the data directory; what is in tmp/ from before a crash was never acknowledged. */
  static async open(options: MailStoreOptions): Promise<MailStore> {
    const store = new MailStore(options);
    await mkdir(join(options.dataDir, 'accounts'), { recursive: true });
    await rm(store.#tmp, { recursive: true, force: true });
    await mkdir(store.#tmp, { recursive: true });
    return store;
  }

  get maxMessageBytes(): number {
    return this.#options.maxMessageBytes;
  }

  /** Accounts open now (for metrics). */
  get openAccounts(): number {
    return this.#accounts.size;
  }

  /** Mailboxes kept loaded with no session on them, and their messages (for metrics and tests). */
  get retainedMailboxes(): { mailboxes: number; messages: number } {
    return this.#retained.size;
  }

  /** How many accounts the data directory holds (for metrics; reads the directory). */
  async countAccounts(): Promise<number> {
    let count = 0;
    const root = join(this.#options.dataDir, 'accounts');
    for (const shard of await readdir(root).catch(() => []))
      count += (await readdir(join(root, shard)).catch(() => [])).length;
    return count;
  }

  #track<T>(work: Promise<T>): Promise<T> {
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work)).catch(() => undefined);
    return work;
  }

  async #acquire(user: string): Promise<AccountEngine> {
    if (this.#closing) throw new StoreError('UNAVAILABLE', 'the store is shutting down');
    clearTimeout(this.#idle.get(user)?.timer);
    this.#idle.delete(user);
    let opening = this.#accounts.get(user);
    if (!opening) {
      // An account closing after its idle time still holds the index's exclusive lock: wait for it.
      await this.#closingAccounts.get(user);
      opening = this.#accounts.get(user);
    }
    if (!opening) {
      opening = AccountEngine.open(user, {
        dataDir: this.#options.dataDir,
        quota: this.#options.quota,
        maxMessageBytes: this.#options.maxMessageBytes,
        ...(this.#options.now ? { now: this.#options.now } : {}),
        onRebuild: (report) => this.#options.onRebuild?.(user, report),
        retained: this.#retained,
      });
      this.#accounts.set(user, opening);
      opening.catch(() => this.#accounts.delete(user));
    }
    const engine = await opening;
    engine.sessions++;
    return engine;
  }

  #release(engine: AccountEngine): void {
    engine.sessions--;
    if (engine.sessions > 0 || this.#closing) return;
    const keep = this.#options.idleAccountKeepMs ?? STORE_LIMITS.idleAccountKeepMs;
    const timer = setTimeout(() => this.#closeIdle(engine), keep);
    timer.unref();
    this.#idle.set(engine.user, { engine, timer });
    // Past the limit, the account idle longest closes now: each holds its index open (a descriptor,
    // SQLite's page cache) and its retained mailboxes.
    if (this.#idle.size > (this.#options.idleAccountsKept ?? STORE_LIMITS.idleAccountsKept)) {
      const [oldest] = this.#idle.values();
      clearTimeout(oldest!.timer);
      this.#closeIdle(oldest!.engine);
    }
  }

  #closeIdle(engine: AccountEngine): void {
    this.#idle.delete(engine.user);
    if (engine.sessions > 0) return;
    this.#accounts.delete(engine.user);
    const closing = engine.close().finally(() => this.#closingAccounts.delete(engine.user));
    this.#closingAccounts.set(engine.user, closing);
  }

  async openAccount(user: string): Promise<Account> {
    const engine = await this.#acquire(user);
    return new AccountSession(engine, this, () => this.#release(engine));
  }

  /** Used by AccountSession: an append's files are written before the account's lock is taken. */
  writeTmp(source: AppendItem['source'], internalDate?: number): Promise<WrittenMessage> {
    if (source instanceof TmpMessageFile) return source.finish(internalDate);
    if (!(source instanceof Uint8Array) && !(Symbol.asyncIterator in source))
      throw new TypeError('an IncomingMessage from another store');
    return writeTmpMessage(this.#tmp, source, this.#options.maxMessageBytes, internalDate);
  }

  receiveMessage(): Promise<IncomingMessage> {
    if (this.#closing) return Promise.reject(new StoreError('UNAVAILABLE', 'the store is shutting down'));
    return TmpMessageFile.create(this.#tmp, this.#options.maxMessageBytes);
  }

  stored(how: 'delivery' | 'append' | 'copy', bytes: number): void {
    this.#options.onStored?.(how, bytes);
  }

  track<T>(work: Promise<T>): Promise<T> {
    return this.#track(work);
  }

  deliver(request: DeliveryRequest): Promise<readonly DeliveryOutcome[]> {
    return this.#track(this.#deliver(request));
  }

  async #deliver(request: DeliveryRequest): Promise<readonly DeliveryOutcome[]> {
    if (this.#closing) throw new StoreError('UNAVAILABLE', 'the store is shutting down');
    const now = this.#options.now?.() ?? Date.now();
    let written;
    try {
      written = await this.writeTmp(request.source);
    } catch (error) {
      if (isStoreError(error, 'TOOBIG'))
        return request.recipients.map((recipient) => ({ recipient, kind: 'tooBig' as const }));
      throw error;
    }
    const alone = request.recipients.length === 1;
    let renamedAway = false;
    try {
      // Each recipient is another account, with its own lock: they commit in parallel.
      const outcomes = await Promise.all(
        request.recipients.map((r) =>
          // One recipient takes the file itself; several each get a link to it.
          this.#deliverOne(r, written.path, written.size, now, alone ? 'rename' : 'link'),
        ),
      );
      // A delivered lone recipient took the file by its rename: an unlink would only fail (ENOENT).
      renamedAway = alone && outcomes[0]!.kind === 'delivered';
      return outcomes;
    } finally {
      if (!renamedAway) await unlinkIfPresent(written.path);
    }
  }

  async #deliverOne(
    recipient: string,
    path: string,
    size: number,
    now: number,
    how: NewMessage['how'],
  ): Promise<DeliveryOutcome> {
    let engine: AccountEngine;
    try {
      engine = await this.#acquire(recipient.toLowerCase());
    } catch (error) {
      return { recipient, kind: 'failed', reason: (error as Error).message };
    }
    try {
      const item: NewMessage = { path, how, size, flags: parseFlags([]), internalDate: now };
      const result = await engine.deliverToInbox(item);
      if (result === 'overQuota') return { recipient, kind: 'overQuota' };
      this.stored('delivery', size);
      return { recipient, kind: 'delivered', uid: result.uid, uidValidity: result.uidValidity };
    } catch (error) {
      return { recipient, kind: 'failed', reason: (error as Error).message };
    } finally {
      this.#release(engine);
    }
  }

  async close(): Promise<void> {
    this.#closing = true;
    await Promise.allSettled([...this.#inFlight]);
    for (const { timer } of this.#idle.values()) clearTimeout(timer);
    this.#idle.clear();
    await Promise.allSettled([...this.#closingAccounts.values()]);
    const engines = await Promise.allSettled([...this.#accounts.values()]);
    this.#accounts.clear();
    for (const result of engines) if (result.status === 'fulfilled') await result.value.close();
  }
}

class AccountSession implements Account {
  readonly delimiter = MAILBOX_DELIMITER;
  readonly #engine: AccountEngine;
  readonly #store: MailStore;
  readonly #release: () => void;
  readonly #views = new Set<MailboxView>();
  #closed = false;

  constructor(engine: AccountEngine, store: MailStore, release: () => void) {
    this.#engine = engine;
    this.#store = store;
    this.#release = release;
  }

  get user(): string {
    return this.#engine.user;
  }

  get maxMessageBytes(): number {
    return this.#engine.maxMessageBytes;
  }

  #check(): void {
    if (this.#closed) throw new StoreError('CANNOT', 'the session has logged out');
  }

  listMailboxes(): Promise<readonly MailboxInfo[]> {
    return attempt(() => {
      this.#check();
      return this.#engine.listMailboxes();
    });
  }

  listSubscriptions(): Promise<readonly string[]> {
    return attempt(() => {
      this.#check();
      return this.#engine.listSubscriptions();
    });
  }

  subscribe(name: string): Promise<void> {
    return attempt(() => {
      this.#check();
      return this.#store.track(this.#engine.setSubscribed(name, true));
    });
  }

  unsubscribe(name: string): Promise<void> {
    return attempt(() => {
      this.#check();
      return this.#store.track(this.#engine.setSubscribed(name, false));
    });
  }

  create(name: string, options?: CreateOptions): Promise<void> {
    return attempt(() => {
      this.#check();
      return this.#store.track(this.#engine.create(name, options?.specialUse));
    });
  }

  delete(name: string): Promise<void> {
    return attempt(() => {
      this.#check();
      return this.#store.track(this.#engine.delete(name));
    });
  }

  rename(from: string, to: string): Promise<void> {
    return attempt(() => {
      this.#check();
      return this.#store.track(this.#engine.rename(from, to));
    });
  }

  status(name: string): Promise<MailboxStatus> {
    return attempt(() => {
      this.#check();
      return this.#engine.status(name);
    });
  }

  quota(): Promise<Quota> {
    return attempt(() => {
      this.#check();
      return this.#engine.quota();
    });
  }

  openMailbox(name: string, options: OpenMailboxOptions): Promise<MailboxView> {
    return attempt(() => {
      this.#check();
      const record = this.#engine.selectableMailbox(name);
      const view = new MailboxViewImpl(this.#engine, record, options.readOnly);
      this.#views.add(view);
      const close = view.close.bind(view);
      view.close = () => {
        this.#views.delete(view);
        close();
      };
      return view;
    });
  }

  async append(mailbox: string, items: readonly AppendItem[]): Promise<AppendResult> {
    const batch = await this.beginAppend(mailbox);
    try {
      for (const item of items) await batch.add(item);
    } catch (error) {
      await batch.abort();
      throw error;
    }
    return batch.commit();
  }

  beginAppend(mailbox: string): Promise<AppendBatch> {
    return attempt(() => {
      this.#check();
      this.#engine.selectableMailbox(mailbox, true);
      const engine = this.#engine;
      const store = this.#store;
      const written: NewMessage[] = [];
      let finished = false;
      const discard = async () => {
        finished = true;
        for (const item of written) await unlinkIfPresent(item.path);
      };
      return {
        async add(item) {
          if (finished) throw new StoreError('CANNOT', 'the append was already committed or aborted');
          const flags = parseFlags(item.flags ?? []);
          const internalDate = item.internalDate ?? Date.now();
          const file = await store.writeTmp(item.source, internalDate);
          written.push({ path: file.path, how: 'rename', size: file.size, flags, internalDate });
        },
        async commit() {
          if (finished) throw new StoreError('CANNOT', 'the append was already committed or aborted');
          finished = true;
          try {
            const { record, uids } = await store.track(
              engine.addMessages(() => engine.selectableMailbox(mailbox, true), written),
            );
            for (const item of written) store.stored('append', item.size);
            return { uidValidity: record.uidValidity, uids };
          } catch (error) {
            for (const item of written) await unlinkIfPresent(item.path);
            throw error;
          }
        },
        abort: discard,
      };
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const view of [...this.#views]) view.close();
    this.#release();
  }
}
