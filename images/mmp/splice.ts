// After login, the client and the store are joined byte for byte: nothing is parsed, so COMPRESS,
// IDLE and literals of any size pass. Each side's chunks are written to the other as they come; a
// side stops being read only when the other holds more than `maxBufferedBytes` unsent (stream.pipe
// pauses at the socket's 16 KiB high-water mark, i.e. after every 64 KiB read, so a bulk FETCH
// waited for each chunk to drain before the next was read). Either side closing closes the other;
// no byte in either direction for the idle timeout ends both (RFC 9051 section 5.4: at least 30
// minutes).
//
// An MMP holds thousands of such pairs, most of them idle for hours (IDLE), so a pair is one object
// and its sockets' listeners are functions shared by every pair, finding their pair from the socket
// they are called on (`this`): closures made per pair (a function and a context each, and a once()
// wrapper per one-time event) cost several times the pair itself (docs/performance.md, MMP, sixth
// round: 8.3 KiB of V8 heap per idle session before, of which Node's two sockets are ~2 KiB).
import type { Socket } from 'node:net';
// The error listener of a socket about to be spliced (the kit's listener puts it on every socket
// it accepts, the store connector on its own once the login is over): the splice takes it off, so
// that an idle socket holds one error listener, not an array.
import { ignoreError } from '../lib/server/listener.ts';
import { HANDBACK_LINE_PREFIX, handbackLine, resyncLine } from '../lib/contract/handback.ts';
import { handbackNonces, NONCE_DIGITS } from './store-login/handback-nonces.ts';

export interface SpliceStats {
  toStore: number;
  toClient: number;
  reason: 'client-closed' | 'store-closed' | 'idle' | 'ended' | 'handed-back';
}

/** Told once, when both sockets have closed. */
export interface SpliceOwner {
  spliceEnded(stats: SpliceStats): void;
  /** The store handed its connection back after LOGOUT, resync sent: the owner's to keep or close. */
  spliceHandedBack?(store: Socket): void;
}

export interface Splice {
  /** Ends both sides now (a moved user, the end of a drain). */
  end(): void;
}

export interface SpliceOptions {
  idleTimeoutMs: number;
  /** What the client sent after its login command: the store's, first thing. */
  pipelined: Buffer;
  /** What the store sent after its login answer: the client's, first thing. */
  storeRest: Buffer;
  maxBufferedBytes: number;
  /** The store was asked to hand the connection back after LOGOUT (handback-nonces.ts); 0: not. */
  handbackId?: number;
}

const MARKER_PREFIX = Buffer.from(HANDBACK_LINE_PREFIX);
const MARKER_LINE_BYTES = MARKER_PREFIX.length + NONCE_DIGITS + 2;

/**
 * Where the store's handback marker line for `id` starts in `view`, or -1. The store sends nothing
 * after it until the resync line, so it can only be a read's last bytes: a look at those, not a
 * search of the read (a bulk FETCH's quarter megabyte). A message may end a read with the prefix
 * too; only the line with this login's marker is the handback.
 */
function markerAt(view: Buffer, id: number): number {
  const at = view.length - MARKER_LINE_BYTES;
  if (at < 0 || view[view.length - 1] !== 0x0a) return -1;
  if (MARKER_PREFIX.compare(view, at, at + MARKER_PREFIX.length) !== 0) return -1;
  return view.toString('latin1', at) === handbackLine(handbackNonces(id).marker) ? at : -1;
}

/** Each spliced socket's pair. */
const pairs = new WeakMap<Socket, SplicedPair>();

class SplicedPair implements Splice {
  readonly client: Socket;
  readonly store: Socket;
  readonly maxBuffered: number;
  readonly #owner: SpliceOwner;
  #reason: SpliceStats['reason'] | undefined;
  #closed = 0;
  /**
   * Each socket's bytesRead when the splice began, less what was handed over with it (only the
   * lengths are kept: the buffers may go once written).
   */
  readonly #clientRead0: number;
  readonly #storeRead0: number;
  /** What the store had sent at its handback: what it sends later is the next session's. */
  #storeReadAtHandback: number | undefined;
  /** The store's read in its own buffer waits for this write (bulk reads); made at the first. */
  #written: (() => void) | undefined;
  #waitingForWrite = false;
  /** Idle sweeps since the last byte in either direction (IdleSweep). */
  idleTicks = 0;
  /** The login's handback number, 0 when the store was not asked (lib/contract/handback.ts). */
  readonly handbackId: number;
  /** The store connection went back: the client's bytes go nowhere from here on. */
  handedBack = false;
  readonly #sweep: IdleSweep;

  constructor(client: Socket, store: Socket, options: SpliceOptions, owner: SpliceOwner) {
    this.client = client;
    this.store = store;
    this.maxBuffered = options.maxBufferedBytes;
    this.handbackId = options.handbackId ?? 0;
    this.#owner = owner;
    this.#clientRead0 = client.bytesRead - options.pipelined.length;
    this.#storeRead0 = store.bytesRead - options.storeRest.length;
    this.#sweep = IdleSweep.every(options.idleTimeoutMs);
    this.#sweep.add(this);
  }

  other(socket: Socket): Socket {
    return socket === this.client ? this.store : this.client;
  }

  end(): void {
    this.finish('ended');
  }

  finish(why: SpliceStats['reason']): void {
    this.#reason ??= why;
    this.client.destroy();
    if (!this.handedBack) this.store.destroy();
  }

  /**
   * Whether `view`, read from the store, ends with the marker line of a handback: then what came
   * before it goes to the client, which is ended, and the store connection leaves the pair with its
   * resync line sent (lib/contract/handback.ts). A marker line split between two reads is not
   * seen: the client then has its pieces after its LOGOUT's answer, and the connection is closed
   * with the client's, as without a handback.
   */
  handsBack(view: Buffer, owned: boolean): boolean {
    const at = this.handbackId === 0 ? -1 : markerAt(view, this.handbackId);
    if (at < 0) return false;
    const { client, store } = this;
    this.handedBack = true;
    this.#reason ??= 'handed-back';
    this.#storeReadAtHandback = store.bytesRead;
    ownBuffers.delete(store);
    pairs.delete(store);
    store.off('close', onClose);
    store.off('error', onError);
    store.off('finish', onFinish);
    store.off('drain', onDrain);
    store.off('data', onData);
    // The store's next read must not overwrite what the client is still sent from its buffer.
    if (at > 0) client.write(owned ? Buffer.from(view.subarray(0, at)) : view.subarray(0, at));
    client.end();
    store.write(resyncLine(handbackNonces(this.handbackId).resync));
    // The owner's error listener goes on at once (its pool's), or the socket goes.
    if (this.#owner.spliceHandedBack) this.#owner.spliceHandedBack(store);
    else store.destroy();
    this.closed();
    return true;
  }

  closed(): void {
    if (++this.#closed < 2) return;
    this.#sweep.remove(this);
    this.#owner.spliceEnded({
      toStore: this.client.bytesRead - this.#clientRead0,
      toClient: (this.#storeReadAtHandback ?? this.store.bytesRead) - this.#storeRead0,
      reason: this.#reason ?? 'ended',
    });
  }

  /**
   * A store read handed over by `readIntoPair`. One in the shared buffer comes as a copy, written as
   * 'data' chunks are, reading on below `maxBuffered` unsent. (Writing from the shared buffer itself
   * and swapping it for a new one when a write is left pending does not work: every other socket
   * has already been handed the old one for its next read; splice.test.ts, "small reads".) A read
   * in the socket's own buffer is written as it is, and reading stops (false) until that write is
   * done, since the next read would overwrite it.
   */
  fromStore(view: Buffer, owned: boolean): boolean {
    this.idleTicks = 0;
    if (this.handsBack(view, owned)) return false;
    const to = this.client;
    if (!owned) {
      to.write(view);
      return to.writableLength < this.maxBuffered;
    }
    to.write(view, (this.#written ??= () => this.#resumeStore()));
    if (to.writableLength === 0) return true;
    this.#waitingForWrite = true;
    return false;
  }

  #resumeStore(): void {
    if (!this.#waitingForWrite) return;
    this.#waitingForWrite = false;
    if (!this.store.destroyed) this.store.resume();
  }
}

/**
 * The idle timeout of every pair with the same timeout, kept by one timer: a socket's own
 * (setTimeout) is a Timeout object per session, refreshed on every read and write. A pair is ended
 * after IDLE_TICKS sweeps a quarter of the timeout apart without a byte: between one and one and a
 * quarter times the timeout after its last.
 */
class IdleSweep {
  static readonly #byTimeout = new Map<number, IdleSweep>();
  static every(timeoutMs: number): IdleSweep {
    let sweep = IdleSweep.#byTimeout.get(timeoutMs);
    if (!sweep) IdleSweep.#byTimeout.set(timeoutMs, (sweep = new IdleSweep(timeoutMs)));
    return sweep;
  }

  readonly #timeoutMs: number;
  readonly #pairs = new Set<SplicedPair>();
  #timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  add(pair: SplicedPair): void {
    this.#pairs.add(pair);
    if (this.#timer) return;
    this.#timer = setInterval(() => this.#tick(), this.#timeoutMs / (IDLE_TICKS - 1));
    this.#timer.unref();
  }

  remove(pair: SplicedPair): void {
    this.#pairs.delete(pair);
    if (this.#pairs.size > 0) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    for (const pair of this.#pairs) if (++pair.idleTicks >= IDLE_TICKS) pair.finish('idle');
  }
}
const IDLE_TICKS = 5;

// The listeners, one function each for every pair (called with the socket as `this`).
function onData(this: Socket, chunk: Buffer): void {
  const pair = pairs.get(this);
  if (!pair || pair.handedBack) return;
  pair.idleTicks = 0;
  if (this === pair.store && pair.handsBack(chunk, false)) return;
  const to = pair.other(this);
  to.write(chunk);
  if (to.writableLength >= pair.maxBuffered) this.pause();
}
// 'drain' follows every write that found the buffer over the high-water mark, once it is empty.
function onDrain(this: Socket): void {
  const pair = pairs.get(this);
  if (pair && !pair.handedBack) pair.other(this).resume();
}
// A side's end (its peer's FIN) ends the other. Listened for as 'finish', which follows it (Node ends
// a socket's writing when its reading ends): 'end' already has Node's own listener, and a second
// would make an array for the session's life. The other side's own 'finish' comes back here for a
// side already ended: end() again would make (and drop) an ERR_STREAM_ALREADY_FINISHED with its
// stack, 1.5 % of the login profile.
function onFinish(this: Socket): void {
  const pair = pairs.get(this);
  const other = pair && !pair.handedBack ? pair.other(this) : undefined;
  if (other && !other.writableEnded) other.end();
}
function onClose(this: Socket): void {
  const pair = pairs.get(this);
  if (!pair) return;
  pair.finish(this === pair.client ? 'client-closed' : 'store-closed');
  pair.closed();
}
// An error is followed by 'close'.
function onError(this: Socket): void {
  const pair = pairs.get(this);
  pair?.finish(this === pair.client ? 'client-closed' : 'store-closed');
}

/**
 * Joins the two sockets; `owner` is told when both have closed. The sockets' own listeners from
 * before (the login's) must be gone: from here on what they emit is the splice's.
 */
export function splice(client: Socket, store: Socket, options: SpliceOptions, owner: SpliceOwner): Splice {
  const pair = new SplicedPair(client, store, options, owner);
  pairs.set(client, pair);
  pairs.set(store, pair);
  for (const socket of [client, store]) {
    socket.off('error', ignoreError);
    socket.on('close', onClose);
    socket.on('error', onError);
    socket.on('finish', onFinish);
    // 'drain' of one side resumes the other.
    socket.on('drain', onDrain);
    socket.setNoDelay(true);
  }
  if (options.storeRest.length > 0) client.write(options.storeRest);
  if (options.pipelined.length > 0) store.write(options.pipelined);
  client.on('data', onData);
  client.resume();
  // A store socket reading with `readIntoPair` hands its reads to the pair from here on (no
  // 'data' events); any other (TLS) has them as 'data'. It was paused when its login ended
  // (store-connector.ts): a 'data' listener alone does not start an explicitly paused stream.
  store.on('data', onData);
  store.resume();
  return pair;
}

/**
 * A plain store socket reads with `net.connect`'s `onread` instead of into a new buffer per read:
 * a bulk FETCH then costs no allocation (and no collection) per chunk. Until the socket is spliced
 * its bytes are handed on as copies in 'data' events, as any socket's (the login phase reads them
 * so); once spliced, they go to the pair, straight to the other side.
 *
 * Which buffer a read goes into is chosen after each read: while the socket reads in bulk, one of
 * its own, written on as it is (and no next read until that write is done); otherwise one buffer
 * shared by every such socket, copied out at once, so an idle session holds no read buffer at all.
 *
 * Node calls `callback` on the socket (`this`), so one function serves every socket; it calls
 * `buffer` as a plain function, so that one is made per socket and names it:
 * `{ buffer: () => nextReadBuffer(socket), callback: readIntoPair }`.
 */
export function nextReadBuffer(socket: Socket | undefined): Buffer {
  return (socket && ownBuffers.get(socket)) ?? SHARED;
}

export function readIntoPair(this: Socket, bytes: number, buffer: Buffer): boolean {
  const view = buffer.subarray(0, bytes);
  if (bytes >= BULK_READ_BYTES) {
    if (!ownBuffers.has(this)) ownBuffers.set(this, Buffer.allocUnsafe(BULK_BUFFER_BYTES));
  } else if (bytes < SMALL_READ_BYTES) {
    // A write still sending from it holds it; otherwise it is let go.
    ownBuffers.delete(this);
  }
  const pair = pairs.get(this);
  if (pair) return buffer === SHARED ? pair.fromStore(Buffer.from(view), false) : pair.fromStore(view, true);
  this.emit('data', Buffer.from(view));
  return true;
}

/** Node's own read size: the shared buffer's. */
const READ_BUFFER_BYTES = 64 * 1024;
/**
 * A socket reading in bulk reads up to this much at a time: a quarter of the reads, callbacks and
 * writes of 64 KiB ones (a standalone trial, 2 GiB through a proxy process: 0.71-0.82 CPU s per GiB
 * against 1.13-1.18; docs/performance.md, MMP, fifth round). Held only while the bulk lasts.
 */
const BULK_BUFFER_BYTES = 256 * 1024;
/** A read this large means more is coming: the socket gets a buffer of its own. */
const BULK_READ_BYTES = 16 * 1024;
/** A read this small means the bulk is over: back to the shared buffer. */
const SMALL_READ_BYTES = 4 * 1024;
/**
 * Read into and copied out of within one callback, so every socket may point at it (each is
 * handed its next read's buffer after its last read, so this one is never replaced).
 */
const SHARED: Buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
/** The buffers of the sockets reading in bulk now. */
const ownBuffers = new WeakMap<Socket, Buffer>();
