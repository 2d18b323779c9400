import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { MessageFile } from '../mailbox/api.ts';
import { imapLimits } from '../limits.ts';
import { BufferPool, copyToLiteral, type LiteralSink } from './literal-copy.ts';

function fileOf(bytes: Buffer): MessageFile & { reads: number } {
  const file = {
    size: bytes.length,
    reads: 0,
    read: async (buffer: Buffer, length: number, position: number) => {
      file.reads++;
      await new Promise((r) => setImmediate(r));
      return bytes.copy(
        buffer,
        0,
        position,
        Math.min(bytes.length, position + length, position + buffer.length),
      );
    },
    close: async () => {},
  };
  return file;
}

/**
 * A sink like a socket under back-pressure: it keeps what it is given by reference and takes the
 * bytes (copies them out) only later, in `take()`. A buffer reused before its callback would show.
 */
class LateSink implements LiteralSink {
  readonly held: { bytes: Buffer; written?: (() => void) | undefined }[] = [];
  readonly out: Buffer[] = [];
  maxHeld = 0;
  isClosed = false;
  #end: () => void = () => {};
  readonly ended = new Promise<void>((resolve) => (this.#end = resolve));

  send(bytes: Buffer, written?: () => void): void {
    this.held.push({ bytes, written });
    this.maxHeld = Math.max(this.maxHeld, this.held.filter((h) => h.written).length);
  }

  async drain(): Promise<void> {
    // Lets the copy run ahead while writes are still held, as a socket under its bound does.
    await new Promise((r) => setImmediate(r));
    if (this.held.length > 3) this.take();
  }

  take(): void {
    const first = this.held.shift();
    if (!first) return;
    this.out.push(Buffer.from(first.bytes)); // copied now, as the kernel would
    first.written?.();
  }

  close(): void {
    this.isClosed = true;
    this.#end();
  }
}

describe('copying a message file into a FETCH literal', () => {
  it('sends head, every octet and tail in order, reusing buffers only once the sink let them go', async () => {
    const message = randomBytes(10_000);
    const pool = new BufferPool(1000, 4);
    const sink = new LateSink();
    const copying = copyToLiteral(
      sink,
      fileOf(message),
      message.length,
      { head: Buffer.from('HEAD'), tail: Buffer.from('TAIL') },
      pool,
    );
    // Take writes late, while the copy waits for a buffer.
    while (
      !(await Promise.race([copying.then(() => true), new Promise((r) => setTimeout(() => r(false), 1))]))
    )
      sink.take();
    while (sink.held.length > 0) sink.take();
    assert.equal(await copying, message.length);
    assert.deepEqual(
      Buffer.concat(sink.out),
      Buffer.concat([Buffer.from('HEAD'), message, Buffer.from('TAIL')]),
    );
    assert.ok(sink.maxHeld <= imapLimits.fetchBuffersPerCopy, `${sink.maxHeld} chunks held at once`);
    assert.ok(pool.free >= 1 && pool.free <= imapLimits.fetchBuffersPerCopy, `${pool.free} buffers back`);
  });

  it('reuses the same buffers for the next message', async () => {
    const pool = new BufferPool(1000, 4);
    const taken = new Set<Buffer>();
    const take = pool.take.bind(pool);
    pool.take = () => {
      const b = take();
      taken.add(b);
      return b;
    };
    for (let i = 0; i < 3; i++) {
      const message = randomBytes(5_500);
      const sink = new LateSink();
      sink.send = (bytes, written) => {
        sink.out.push(Buffer.from(bytes));
        setImmediate(() => written?.());
      };
      const sent = await copyToLiteral(
        sink,
        fileOf(message),
        message.length,
        { head: Buffer.alloc(0), tail: Buffer.alloc(0) },
        pool,
      );
      assert.equal(sent, message.length);
      assert.deepEqual(Buffer.concat(sink.out), message);
      await new Promise((r) => setImmediate(r));
    }
    assert.ok(taken.size <= imapLimits.fetchBuffersPerCopy + 1, `${taken.size} buffers for 18 chunks`);
  });

  it('returns short, without the tail, when the file ends early or the session closes', async () => {
    const message = randomBytes(3_000);
    const short = new LateSink();
    short.send = (bytes, written) => {
      short.out.push(Buffer.from(bytes));
      written?.();
    };
    const sent = await copyToLiteral(
      short,
      fileOf(message),
      message.length + 500,
      { head: Buffer.from('H'), tail: Buffer.from('T') },
      new BufferPool(1000, 4),
    );
    assert.equal(sent, message.length);
    assert.deepEqual(Buffer.concat(short.out), Buffer.concat([Buffer.from('H'), message]));

    // A closed session never reports its held writes back: the copy must not wait for them.
    const closing = new LateSink();
    closing.drain = async () => {};
    const copying = copyToLiteral(
      closing,
      fileOf(randomBytes(50_000)),
      50_000,
      { head: Buffer.from('H'), tail: Buffer.from('T') },
      new BufferPool(1000, 4),
    );
    await new Promise((r) => setTimeout(r, 20));
    closing.close();
    assert.ok((await copying) < 50_000);
  });
});
