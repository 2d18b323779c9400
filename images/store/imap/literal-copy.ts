// Copies a big message's file into its FETCH literal through a few buffers the process reuses,
// instead of a fresh read buffer per chunk (a read stream's way: the FETCH benchmark's profile had
// 12% of the store's samples in the garbage collector for them). A buffer goes back to the pool
// only when the transport reports that it no longer holds it: socket.write keeps a reference to
// what it was given until the kernel (or TLS, or deflate) has taken it, so reusing a buffer any
// earlier would send bytes of the next chunk in place of this one's.
import type { MessageFile } from '../mailbox/api.ts';
import { imapLimits } from '../limits.ts';

/** Fixed-size buffers, kept up to a bound once returned; beyond it they are left to the collector. */
export class BufferPool {
  readonly bufferBytes: number;
  readonly keep: number;
  readonly #free: Buffer[] = [];

  constructor(bufferBytes: number, keep: number) {
    this.bufferBytes = bufferBytes;
    this.keep = keep;
  }

  get free(): number {
    return this.#free.length;
  }

  take(): Buffer {
    // Slow: not a slice of Node's shared 8 KiB slab, so the buffer is ours alone to give back.
    return this.#free.pop() ?? Buffer.allocUnsafeSlow(this.bufferBytes);
  }

  give(buffer: Buffer): void {
    if (buffer.length === this.bufferBytes && this.#free.length < this.keep) this.#free.push(buffer);
  }
}

/** Where the literal goes: the session's send with a callback for when the bytes are let go. */
export interface LiteralSink {
  /** `written` runs once the sink holds no reference to `bytes` (at once if it is closed). */
  send(bytes: Buffer, written?: () => void): void;
  /** Waits while the peer reads slowly. */
  drain(): Promise<void>;
  readonly isClosed: boolean;
  /** Settles when the session has ended: a write it held may never report back then. */
  readonly ended: Promise<void>;
}

const pool = new BufferPool(imapLimits.fetchChunkBytes, imapLimits.fetchBuffersKept);

export interface LiteralFrame {
  /** Sent with the first chunk, so the literal's header and its first bytes leave in one write. */
  head: Buffer;
  /** Sent with the last chunk, only if every octet was sent. */
  tail: Buffer;
}

/**
 * Sends `frame.head`, `size` octets of `file` and `frame.tail` to `sink`; returns how many octets
 * of the file were sent: fewer only if the file was shorter or the session closed, and then the
 * tail is not sent (the literal's length is already on the wire: the caller ends the session).
 * At most `imapLimits.fetchBuffersPerCopy` buffers are in flight: one is read into while the
 * others are on their way out.
 */
export async function copyToLiteral(
  sink: LiteralSink,
  file: MessageFile,
  size: number,
  frame: LiteralFrame,
  buffers: BufferPool = pool,
): Promise<number> {
  const inFlight: Promise<unknown>[] = [];
  let position = 0;
  let headSent = false;
  while (position < size && !sink.isClosed) {
    if (inFlight.length >= imapLimits.fetchBuffersPerCopy) await inFlight.shift();
    const buffer = buffers.take();
    let read: number;
    try {
      read = await file.read(buffer, size - position, position);
    } catch (error) {
      buffers.give(buffer);
      throw error;
    }
    if (read === 0) {
      buffers.give(buffer);
      break;
    }
    position += read;
    if (!headSent) sink.send(frame.head);
    headSent = true;
    const written = new Promise<void>((resolve) =>
      sink.send(buffer.subarray(0, read), () => {
        buffers.give(buffer);
        resolve();
      }),
    );
    inFlight.push(Promise.race([written, sink.ended]));
    if (position === size) sink.send(frame.tail);
    await sink.drain();
  }
  if (size === 0) sink.send(Buffer.concat([frame.head, frame.tail]));
  else if (!headSent) sink.send(frame.head);
  return position;
}
