// The file side of durability: a message written to the store's tmp/ and fsynced before any index
// knows it, and small JSON files replaced atomically. Directory fsyncs are shared between
// concurrent callers (DirectorySync), which is what keeps deliveries cheap under load.
import { randomBytes } from 'node:crypto';
import { closeSync, fdatasync, futimes, open as openFd, writev, writevSync } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import { dirname, join } from 'node:path';
import { DirectorySync } from '../../lib/fs/directory-sync.ts';
import { StoreError, type IncomingMessage, type MessageSource } from './api.ts';

export { DirectorySync };

/** Writes are gathered up to this size: fewer syscalls for a message that arrives in small chunks. */
const WRITE_CHUNK = 256 * 1024;

// A raw descriptor, not a FileHandle: the last write (under WRITE_CHUNK, a copy into the page cache)
// and the close are made on the event loop, where each was a trip to the thread pool. On this
// machine a trip cost the loop more than the call itself: waking an idle pool thread is a futex
// wake and, in a VM, an interrupt to another CPU. The open (an inode allocation, 0.04-0.5 ms here)
// and the fdatasync stay on the pool.
const openAsync = promisify(openFd);
const writevAsync = promisify(writev);
const fdatasyncAsync = promisify(fdatasync);
const futimesAsync = promisify(futimes);

export interface WrittenMessage {
  readonly path: string;
  readonly size: number;
}

/**
 * A message file in `<tmpDir>/` being written as its bytes arrive (an LMTP DATA, an APPEND literal
 * too big to hold in memory), fsynced only by `finish`, when the whole message is there. Until an
 * append renames it away, `discard` removes it; what a crash leaves in tmp/ is removed at start.
 */
export class TmpMessageFile implements IncomingMessage {
  readonly path: string;
  readonly #fd: number;
  readonly #maxBytes: number;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #size = 0;
  #state: 'open' | 'finished' | 'discarded' = 'open';

  private constructor(path: string, fd: number, maxBytes: number) {
    this.path = path;
    this.#fd = fd;
    this.#maxBytes = maxBytes;
  }

  static async create(tmpDir: string, maxBytes: number): Promise<TmpMessageFile> {
    const path = join(tmpDir, uniqueTmpName());
    return new TmpMessageFile(path, await openAsync(path, 'wx', 0o600), maxBytes);
  }

  get size(): number {
    return this.#size;
  }

  /** Appends bytes (kept by reference until written: do not reuse the buffer). TOOBIG past max. */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.#state !== 'open') throw new Error('the message file is no longer open');
    if (this.#size + chunk.length > this.#maxBytes)
      throw new StoreError('TOOBIG', `the message is over ${this.#maxBytes} bytes`);
    this.#size += chunk.length;
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    if (this.#pendingBytes >= WRITE_CHUNK) await this.#flush();
  }

  /** Writes what is gathered: on the thread pool while the message goes on, here for its tail. */
  async #flush(last = false): Promise<void> {
    if (this.#pendingBytes === 0) return;
    // writev, not a concatenation: the chunks are written from where they are, no copy is made.
    let chunks = this.#pending;
    let bytes = this.#pendingBytes;
    this.#pending = [];
    this.#pendingBytes = 0;
    for (;;) {
      // A file takes the whole write but when the disk fills mid-way: then the rest is written
      // again, and the next write reports ENOSPC.
      const written = last
        ? writevSync(this.#fd, chunks)
        : (await writevAsync(this.#fd, chunks)).bytesWritten;
      if (written >= bytes) return;
      bytes -= written;
      chunks = [Buffer.concat(chunks).subarray(written)];
    }
  }

  /** The last bytes written, the INTERNALDATE as mtime (a rebuilt index reads it back), fdatasync. */
  async finish(internalDate?: number): Promise<WrittenMessage> {
    if (this.#state !== 'open') throw new Error('the message file is no longer open');
    this.#state = 'finished';
    try {
      await this.#flush(true);
      if (internalDate !== undefined) await futimesAsync(this.#fd, internalDate / 1000, internalDate / 1000);
      await fdatasyncAsync(this.#fd);
    } catch (error) {
      this.#close();
      await unlinkIfPresent(this.path);
      throw error;
    }
    this.#close();
    return { path: this.path, size: this.#size };
  }

  /** Removes the file, unless finished: then the caller owns it (renamed into a mailbox or not). */
  async discard(): Promise<void> {
    if (this.#state !== 'open') return;
    this.#state = 'discarded';
    this.#pending = [];
    this.#close();
    await unlinkIfPresent(this.path);
  }

  /** Closes the descriptor once; a close that fails cannot be retried (the fd is gone either way). */
  #close(): void {
    try {
      closeSync(this.#fd);
    } catch {
      // EIO from a close: after finish, the fdatasync before it already said whether the data is on
      // disk; after discard, the file is removed and its data wanted by no one.
    }
  }
}

// Unique within this store's tmp/ (one process owns it, 'wx' refuses a clash): the process's random
// prefix and a counter, where a name of fresh random bytes cost a trip into the CSPRNG per message.
const tmpPrefix = randomBytes(6).toString('base64url');
let tmpCounter = 0;
const uniqueTmpName = () => `${Date.now().toString(36)}.${tmpPrefix}.${(tmpCounter++).toString(36)}`;

/**
 * Writes a message to `<tmpDir>/<unique name>` and fsyncs it. Over `maxBytes` the rest of the source is
 * still read (a protocol stream must be drained to stay in step) but not kept, and TOOBIG is thrown.
 */
export async function writeTmpMessage(
  tmpDir: string,
  source: MessageSource,
  maxBytes: number,
  internalDate?: number,
): Promise<WrittenMessage> {
  const file = await TmpMessageFile.create(tmpDir, maxBytes);
  try {
    let size = 0;
    const chunks = source instanceof Uint8Array ? [source] : source;
    for await (const chunk of chunks) {
      size += chunk.length;
      if (size <= maxBytes) await file.write(chunk);
    }
    if (size > maxBytes) throw new StoreError('TOOBIG', `the message is over ${maxBytes} bytes`);
    return await file.finish(internalDate);
  } finally {
    await file.discard();
  }
}

/** Replaces `path` with `content` atomically: tmp file, fsync, rename, directory fsync. */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(content);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
  await syncDirectory(dir);
}

export async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function unlinkIfPresent(path: string): Promise<void> {
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}
