// The bytes of small messages recently read, in memory, for the whole process: a mail client's
// FETCH of headers, SEARCH on header keys and FETCH of a body read the same few KiB files again and
// again, and each read from the file is three trips through the thread pool (open, read, close),
// the largest part of the store's CPU under the mixed benchmark (profiled). A message file never
// changes under its path (one file per UID, UIDs never given twice, mailbox ids never reused), so
// an entry is right for as long as it is kept; an expunged message is refused by the view before
// the cache is asked. Bounded in bytes, least recently used out first (docs/store.md).
import { STORE_LIMITS } from '../limits.ts';

export class SmallMessageCache {
  readonly #entries = new Map<string, Buffer>();
  readonly #maxBytes: number;
  #bytes = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  get(path: string): Buffer | undefined {
    const bytes = this.#entries.get(path);
    if (bytes) {
      this.#entries.delete(path);
      this.#entries.set(path, bytes);
    }
    return bytes;
  }

  set(path: string, bytes: Buffer): void {
    if (bytes.length > this.#maxBytes || this.#entries.has(path)) return;
    this.#entries.set(path, bytes);
    this.#bytes += bytes.length;
    for (const [oldest, old] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= old.length;
    }
  }

  get bytes(): number {
    return this.#bytes;
  }
}

export const smallMessages = new SmallMessageCache(STORE_LIMITS.smallMessageCacheBytes);
