// A session's selected mailbox: the snapshot it opened with and the queue of other sessions'
// changes since, which the protocol layer takes when it may announce them.
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import {
  StoreError,
  type ByteRange,
  type CopyResult,
  type ExpungeRequest,
  type ExpungeResult,
  type MailboxChange,
  type MailboxChanges,
  type MailboxSnapshot,
  type MailboxView,
  type MessageFile,
  type MessageMeta,
  type MoveResult,
  type StoreFlagsRequest,
  type StoreFlagsResult,
} from './api.ts';
import { attempt } from './attempt.ts';
import { smallMessages } from './small-message-cache.ts';
import { STORE_LIMITS } from '../limits.ts';
import type { AccountEngine, LoadedMailbox, MailboxRecord, ViewSink } from './account-engine.ts';

export class MailboxViewImpl implements MailboxView, ViewSink {
  readonly snapshot: MailboxSnapshot;
  readonly readOnly: boolean;
  readonly #engine: AccountEngine;
  readonly #loaded: LoadedMailbox;
  #queue: MailboxChange[] = [];
  #listeners: (() => void)[] = [];
  #wakeScheduled = false;
  #closed = false;
  #gone = false;

  constructor(engine: AccountEngine, record: MailboxRecord, readOnly: boolean) {
    this.#engine = engine;
    this.readOnly = readOnly;
    this.#loaded = engine.attach(record, this);
    const recentFrom = readOnly ? Infinity : engine.claimRecent(this.#loaded);
    const messages: MessageMeta[] = [];
    for (const m of this.#loaded.messages.values())
      messages.push(m.uid >= recentFrom ? { ...m, recent: true } : m);
    this.snapshot = {
      name: record.name,
      uidValidity: record.uidValidity,
      uidNext: record.uidNext,
      highestModseq: record.highestModseq,
      messages,
      keywords: this.#loaded.keywords,
      readOnly,
    };
  }

  get name(): string {
    return this.#loaded.record.name;
  }

  get closed(): boolean {
    return this.#closed;
  }

  queue(change: MailboxChange): void {
    if (this.#closed) return;
    if (change.kind === 'mailboxGone' && change.renamedTo === undefined) this.#gone = true;
    this.#queue.push(change);
    this.#wake();
  }

  /** One call of each listener per batch of changes queued in the same tick. */
  #wake(): void {
    if (this.#wakeScheduled || this.#listeners.length === 0) return;
    this.#wakeScheduled = true;
    queueMicrotask(() => {
      this.#wakeScheduled = false;
      if (this.#closed || this.#queue.length === 0) return;
      for (const listener of this.#listeners) listener();
    });
  }

  takeChanges(): MailboxChanges {
    const changes = this.#queue;
    this.#queue = [];
    const record = this.#loaded.record;
    return { changes, highestModseq: record.highestModseq, uidNext: record.uidNext };
  }

  onChanges(listener: () => void): void {
    this.#listeners.push(listener);
    if (this.#queue.length > 0) this.#wake();
  }

  #usable(write: boolean): void {
    if (this.#closed) throw new StoreError('CANNOT', 'the mailbox is no longer selected');
    if (this.#gone) throw new StoreError('NONEXISTENT', `${this.name} was deleted by another session`);
    if (write && this.readOnly) throw new StoreError('NOPERM', `${this.name} is open read-only (EXAMINE)`);
  }

  #present(uid: number): MessageMeta {
    const message = this.#loaded.messages.get(uid);
    if (!message) throw new StoreError('EXPUNGEISSUED', `message ${uid} was expunged`);
    return message;
  }

  async readMessage(uid: number, range?: ByteRange): Promise<Readable> {
    this.#usable(false);
    const message = this.#present(uid);
    const start = Math.max(0, range?.start ?? 0);
    const end = Math.min(message.size, range?.end ?? message.size);
    if (end <= start) return Readable.from([]);
    const handle = await this.#openFile(uid);
    return handle.createReadStream({ start, end: end - 1, autoClose: true, highWaterMark: 256 * 1024 });
  }

  async openMessage(uid: number): Promise<MessageFile> {
    this.#usable(false);
    const { size } = this.#present(uid);
    const handle = await this.#openFile(uid);
    return {
      size,
      read: async (buffer, length, position) =>
        (await handle.read(buffer, 0, Math.min(length, buffer.length, size - position), position)).bytesRead,
      close: () => handle.close(),
    };
  }

  async readMessageBuffer(uid: number, range?: ByteRange): Promise<Buffer> {
    this.#usable(false);
    const message = this.#present(uid);
    if (message.size <= STORE_LIMITS.smallMessageBytes) {
      const path = this.#engine.paths.messageFile(this.#loaded.record.id, uid);
      let bytes = smallMessages.get(path);
      if (!bytes) {
        const handle = await this.#openFile(uid);
        try {
          bytes = await handle.readFile();
        } finally {
          await handle.close();
        }
        smallMessages.set(path, bytes);
      }
      if (!range) return bytes;
      const start = Math.max(0, range.start);
      return bytes.subarray(start, Math.max(start, Math.min(bytes.length, range.end ?? bytes.length)));
    }
    const handle = await this.#openFile(uid);
    try {
      if (!range) return await handle.readFile();
      const start = Math.max(0, range.start);
      const end = Math.min(message.size, range.end ?? message.size);
      if (end <= start) return Buffer.alloc(0);
      const buffer = Buffer.allocUnsafe(end - start);
      let done = 0;
      while (done < buffer.length) {
        const { bytesRead } = await handle.read(buffer, done, buffer.length - done, start + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return buffer.subarray(0, done);
    } finally {
      await handle.close();
    }
  }

  async #openFile(uid: number) {
    try {
      return await open(this.#engine.paths.messageFile(this.#loaded.record.id, uid), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        throw new StoreError('EXPUNGEISSUED', `message ${uid} was expunged`, { cause: error });
      throw error;
    }
  }

  getCached(uid: number, key: string): Promise<string | undefined> {
    return attempt(() => {
      this.#usable(false);
      return this.#engine.getCached(this.#loaded, uid, key);
    });
  }

  putCached(uid: number, key: string, value: string): Promise<void> {
    return attempt(() => {
      this.#usable(false);
      this.#engine.putCached(this.#loaded, uid, key, value);
    });
  }

  async storeFlags(request: StoreFlagsRequest): Promise<StoreFlagsResult> {
    this.#usable(true);
    return this.#engine.storeFlags(this.#loaded, this, request);
  }

  async expunge(request: ExpungeRequest): Promise<ExpungeResult> {
    this.#usable(true);
    return this.#engine.expunge(this.#loaded, this, request.uids, request.onlyDeleted);
  }

  async copy(uids: readonly number[], destination: string): Promise<CopyResult> {
    this.#usable(false);
    return this.#engine.copy(this.#loaded, uids, destination);
  }

  async move(uids: readonly number[], destination: string): Promise<MoveResult> {
    this.#usable(true);
    return this.#engine.move(this.#loaded, this, uids, destination);
  }

  vanishedSince(modseq: number, uids?: readonly number[]): Promise<readonly number[]> {
    return attempt(() => {
      this.#usable(false);
      return this.#engine.vanishedSince(this.#loaded, modseq, uids);
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#listeners = [];
    this.#engine.detach(this.#loaded, this);
  }
}
