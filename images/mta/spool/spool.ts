// The queue on disk. A message is acknowledged (250) only once it is here to stay:
//   1. written to tmp/<id> — the envelope line, then the message;
//   2. fdatasync'd (the bytes and the file's size are on disk);
//   3. renamed into queue/<id>.msg — atomic: a crash leaves either no message or the whole one;
//   4. queue/ fsync'd, so that the rename itself survives a crash (shared by concurrent messages).
// Delivery state (attempts, next try, recipients done) lives beside it in queue/<id>.state, replaced
// the same way. A delivered message is simply removed; if the removal is lost in a crash the
// message is delivered again — at least once, never lost.
//
// At start, tmp/ is emptied (nothing there was acknowledged) and queue/ is read back.
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { MtopoError } from '../../lib/errors.ts';
import {
  decodeEnvelopeLine,
  deliveryStateSchema,
  encodeEnvelopeLine,
  type DeliveryState,
  type Envelope,
} from '../core/envelope.ts';
import { DirectorySync } from '../../lib/fs/directory-sync.ts';

export interface SpooledMessage {
  envelope: Envelope;
  /** Where the message starts in the file, after the envelope line. */
  bodyOffset: number;
  /** Message size in bytes. */
  size: number;
  /**
   * The message itself, kept in memory after receipt when it is small, so that the first delivery
   * attempt — usually the only one — does not read back what was just written.
   */
  content?: Buffer | undefined;
}

export interface RecoveredMessage extends SpooledMessage {
  state: DeliveryState | undefined;
}

/** Writes are gathered up to this size before they go to the file. */
const WRITE_BUFFER = 256 * 1024;
/** Messages up to this size stay in memory for their first delivery attempt. */
const KEEP_IN_MEMORY = 128 * 1024;

export class Spool {
  readonly dir: string;
  readonly #tmp: string;
  readonly #queue: string;
  readonly #queueSync: DirectorySync;

  private constructor(dir: string) {
    this.dir = dir;
    this.#tmp = join(dir, 'tmp');
    this.#queue = join(dir, 'queue');
    this.#queueSync = new DirectorySync(this.#queue);
  }

  static async open(dir: string): Promise<Spool> {
    const spool = new Spool(dir);
    try {
      await mkdir(spool.#queue, { recursive: true });
      // Half-written messages from before a crash were never acknowledged.
      await rm(spool.#tmp, { recursive: true, force: true });
      await mkdir(spool.#tmp, { recursive: true });
      // The spool directory itself is synced once (its tmp/ and queue/ entries); its handle is
      // closed again at once — left open, Node closed it at garbage collection with a warning.
      const top = new DirectorySync(dir);
      try {
        await top.sync();
      } finally {
        await top.close();
      }
    } catch (error) {
      throw new MtopoError('ESPOOL', `cannot prepare the queue in ${dir}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return spool;
  }

  /** Starts writing a message; nothing is in the queue until `commit()` resolves. */
  async create(envelope: Envelope): Promise<SpoolWriter> {
    const path = join(this.#tmp, envelope.id);
    const handle = await open(path, 'wx', 0o600);
    const writer = new SpoolWriter(this, envelope, path, handle);
    await writer.write(encodeEnvelopeLine(envelope), true);
    return writer;
  }

  /** Queues a whole message at once (bounces). */
  async store(envelope: Envelope, message: Buffer): Promise<SpooledMessage> {
    const writer = await this.create(envelope);
    try {
      await writer.write(message);
      return await writer.commit();
    } catch (error) {
      await writer.abort();
      throw error;
    }
  }

  /** @internal the last step of SpoolWriter.commit(). */
  async publish(tmpPath: string, id: string): Promise<void> {
    await rename(tmpPath, this.#messagePath(id));
    await this.#queueSync.sync();
  }

  openBody(message: SpooledMessage): Readable {
    return createReadStream(this.#messagePath(message.envelope.id), { start: message.bodyOffset });
  }

  /** The first `limit` bytes of the message (for a bounce's copy of the headers). */
  async readHead(message: SpooledMessage, limit = 64 * 1024): Promise<Buffer> {
    const handle = await open(this.#messagePath(message.envelope.id), 'r');
    try {
      const buffer = Buffer.alloc(limit);
      const { bytesRead } = await handle.read(buffer, 0, limit, message.bodyOffset);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  }

  async writeState(id: string, state: DeliveryState): Promise<void> {
    const tmpPath = join(this.#tmp, `${id}.state`);
    const handle = await open(tmpPath, 'w', 0o600);
    try {
      await handle.writeFile(JSON.stringify(state));
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(tmpPath, join(this.#queue, `${id}.state`));
    await this.#queueSync.sync();
  }

  /** Takes a message out of the queue (delivered, or bounced), and its state file if it has one. */
  async remove(id: string, hasState = true): Promise<void> {
    await unlink(this.#messagePath(id)).catch(ignoreMissing);
    if (hasState) await unlink(join(this.#queue, `${id}.state`)).catch(ignoreMissing);
  }

  /** Every message in the queue, oldest first, with its delivery state when it has one. */
  async recover(onDamaged: (file: string, error: unknown) => void): Promise<RecoveredMessage[]> {
    const names = (await readdir(this.#queue)).filter((n) => n.endsWith('.msg')).sort();
    const recovered: RecoveredMessage[] = [];
    for (const name of names) {
      const id = name.slice(0, -'.msg'.length);
      try {
        const { envelope, bodyOffset, size } = await readEnvelope(this.#messagePath(id));
        let state: DeliveryState | undefined;
        try {
          const handle = await open(join(this.#queue, `${id}.state`), 'r');
          try {
            state = deliveryStateSchema.parse(JSON.parse(await handle.readFile('utf8')));
          } finally {
            await handle.close();
          }
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') onDamaged(`${id}.state`, error);
        }
        recovered.push({ envelope, bodyOffset, size, state });
      } catch (error) {
        onDamaged(name, error);
      }
    }
    return recovered;
  }

  /** For readiness: a file can be created, synced and removed in the queue's file system. */
  async probe(): Promise<void> {
    const path = join(this.#tmp, `.probe-${process.pid}`);
    const handle = await open(path, 'w');
    try {
      await handle.writeFile('probe');
      await handle.sync();
    } finally {
      await handle.close();
      await unlink(path).catch(ignoreMissing);
    }
  }

  async close(): Promise<void> {
    await this.#queueSync.close();
  }

  #messagePath(id: string): string {
    return join(this.#queue, `${id}.msg`);
  }
}

export class SpoolWriter {
  readonly envelope: Envelope;
  readonly #spool: Spool;
  readonly #path: string;
  readonly #handle: FileHandle;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** The message's chunks while it is small enough to keep (see KEEP_IN_MEMORY). */
  #kept: Buffer[] | undefined = [];
  #headerBytes = 0;
  #bodyBytes = 0;
  #closed = false;

  constructor(spool: Spool, envelope: Envelope, path: string, handle: FileHandle) {
    this.#spool = spool;
    this.envelope = envelope;
    this.#path = path;
    this.#handle = handle;
  }

  /** Message bytes written so far. */
  get size(): number {
    return this.#bodyBytes;
  }

  async write(chunk: Buffer, isEnvelope = false): Promise<void> {
    if (chunk.length === 0) return;
    if (isEnvelope) this.#headerBytes += chunk.length;
    else {
      this.#bodyBytes += chunk.length;
      if (this.#bodyBytes > KEEP_IN_MEMORY) this.#kept = undefined;
      else this.#kept?.push(chunk);
    }
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    if (this.#pendingBytes >= WRITE_BUFFER) await this.#flush();
  }

  async #flush(): Promise<void> {
    if (this.#pendingBytes === 0) return;
    const data =
      this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    let offset = 0;
    while (offset < data.length) {
      const { bytesWritten } = await this.#handle.write(data, offset);
      offset += bytesWritten;
    }
  }

  /** Makes the message durable and puts it in the queue. Only after this may the 250 go out. */
  async commit(): Promise<SpooledMessage> {
    try {
      await this.#flush();
      await this.#handle.datasync();
      await this.#handle.close();
      this.#closed = true;
      await this.#spool.publish(this.#path, this.envelope.id);
    } catch (error) {
      await this.abort();
      throw new MtopoError('ESPOOL', `cannot queue ${this.envelope.id}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const content = this.#kept ? Buffer.concat(this.#kept, this.#bodyBytes) : undefined;
    this.#kept = undefined;
    return { envelope: this.envelope, bodyOffset: this.#headerBytes, size: this.#bodyBytes, content };
  }

  async abort(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      await this.#handle.close().catch(() => undefined);
    }
    await unlink(this.#path).catch(ignoreMissing);
  }
}

async function readEnvelope(path: string): Promise<SpooledMessage> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    // The envelope line is small unless a message has thousands of recipients; read until its end.
    let length = Math.min(size, 64 * 1024);
    for (;;) {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, 0);
      const data = buffer.subarray(0, bytesRead);
      if (data.includes(0x0a) || bytesRead >= size) {
        const { envelope, bodyOffset } = decodeEnvelopeLine(data);
        return { envelope, bodyOffset, size: size - bodyOffset };
      }
      length = Math.min(size, length * 4);
    }
  } finally {
    await handle.close();
  }
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error;
}
