// The file side of durability: a message written to the store's tmp/ and fsynced before any index
// knows it, and small JSON files replaced atomically. Directory fsyncs are shared between
// concurrent callers (DirectorySync), which is what keeps deliveries cheap under load.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DirectorySync } from '../../lib/fs/directory-sync.ts';
import { StoreError, type MessageSource } from './api.ts';

export { DirectorySync };

/** Writes are gathered up to this size: fewer syscalls for a message that arrives in small chunks. */
const WRITE_CHUNK = 256 * 1024;

export interface WrittenMessage {
  readonly path: string;
  readonly size: number;
}

/**
 * Writes a message to `<tmpDir>/<random>` and fsyncs it. Over `maxBytes` the rest of the source is
 * still read (a protocol stream must be drained to stay in step) but not kept, and TOOBIG is thrown.
 */
export async function writeTmpMessage(
  tmpDir: string,
  source: MessageSource,
  maxBytes: number,
  internalDate?: number,
): Promise<WrittenMessage> {
  const path = join(tmpDir, `${Date.now().toString(36)}.${randomBytes(9).toString('base64url')}`);
  const handle = await open(path, 'wx', 0o600);
  let size = 0;
  let ok = false;
  try {
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    const flush = async () => {
      if (pendingBytes === 0) return;
      const data = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      await handle.write(data);
    };
    const chunks = source instanceof Uint8Array ? [source] : source;
    for await (const chunk of chunks) {
      size += chunk.length;
      if (size > maxBytes) continue;
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= WRITE_CHUNK) await flush();
    }
    if (size > maxBytes) throw new StoreError('TOOBIG', `the message is over ${maxBytes} bytes`);
    await flush();
    // The file's mtime is the INTERNALDATE: a rebuilt index reads it back from there.
    if (internalDate !== undefined) await handle.utimes(internalDate / 1000, internalDate / 1000);
    await handle.datasync();
    ok = true;
  } finally {
    await handle.close();
    if (!ok) await unlink(path).catch(() => undefined);
  }
  return { path, size };
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
