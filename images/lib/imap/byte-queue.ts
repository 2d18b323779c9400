// The bytes a session has received and not yet parsed, as a queue of chunks: appending a chunk
// never copies what is already held, so a 50 MB literal arriving in 64 KiB reads costs one copy.

export class ByteQueue {
  private chunks: Buffer[] = [];
  private head = 0; // offset into chunks[0]
  private length = 0;

  get size(): number {
    return this.length;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** The index of the first LF within the first `limit` bytes, or -1. */
  indexOfLF(limit: number): number {
    let seen = 0;
    for (let i = 0; i < this.chunks.length && seen < limit; i++) {
      const chunk = this.chunks[i]!;
      const start = i === 0 ? this.head : 0;
      const end = Math.min(chunk.length, start + (limit - seen));
      const at = chunk.subarray(start, end).indexOf(0x0a);
      if (at >= 0) return seen + at;
      seen += end - start;
    }
    return -1;
  }

  /** Removes and returns the first n bytes (n ≤ size). */
  take(n: number): Buffer {
    const parts: Buffer[] = [];
    let left = n;
    while (left > 0) {
      const chunk = this.chunks[0]!;
      const avail = chunk.length - this.head;
      const use = Math.min(avail, left);
      parts.push(chunk.subarray(this.head, this.head + use));
      left -= use;
      this.consumeFront(use, avail);
    }
    return parts.length === 1 ? Buffer.from(parts[0]!) : Buffer.concat(parts);
  }

  /**
   * Removes and returns up to n bytes from the first chunk, without a copy: the bytes stay those
   * the chunk was pushed with (a streamed literal passes them on as they came, and allocates none).
   */
  takeFirst(n: number): Buffer {
    const chunk = this.chunks[0]!;
    const avail = chunk.length - this.head;
    const use = Math.min(avail, n);
    const part = chunk.subarray(this.head, this.head + use);
    this.consumeFront(use, avail);
    return part;
  }

  /** Drops up to n bytes and returns how many were dropped. */
  drop(n: number): number {
    let left = Math.min(n, this.length);
    const dropped = left;
    while (left > 0) {
      const avail = this.chunks[0]!.length - this.head;
      const use = Math.min(avail, left);
      left -= use;
      this.consumeFront(use, avail);
    }
    return dropped;
  }

  private consumeFront(used: number, available: number): void {
    this.length -= used;
    if (used === available) {
      this.chunks.shift();
      this.head = 0;
    } else {
      this.head += used;
    }
  }
}
