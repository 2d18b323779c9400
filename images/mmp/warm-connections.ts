// Connections to a store opened ahead of the logins that will use them: connected (and, with
// storeTls, past the handshake) with the store's greeting already read, so that a login costs one
// round trip to the store instead of three (connect, greeting, answer) — the wait a proxied login
// adds over a direct one. A connection is kept for a short while only (the store closes idle
// pre-login connections itself), is dropped as soon as the store closes it, and a store address
// gets new ones only after a login took one, so an idle MMP holds none.
import type { Socket } from 'node:net';

export interface WarmConnection {
  socket: Socket;
  /** What the store sent while the connection waited (its greeting). */
  received: Buffer;
  /** The store handed it back after a session's LOGOUT (splice.ts), rather than it being opened. */
  handedBack: boolean;
}

interface Waiting extends WarmConnection {
  since: number;
  forget: () => void;
}

export interface WarmPolicy {
  /** Ready connections kept per store address. */
  perAddress: number;
  /** Older ones are closed rather than used (below the store's pre-login timeout). */
  maxAgeMs: number;
  /**
   * Kept per store address at most, counting those the store handed back: as many as sessions end
   * between two logins, more than are opened ahead.
   */
  maxPerAddress: number;
  /** What the store may send before a login; more is a broken store. */
  maxReceivedBytes: number;
}

export class WarmConnections {
  readonly #ready = new Map<string, Waiting[]>();
  readonly #opening = new Map<string, number>();
  readonly #policy: WarmPolicy;
  readonly #now: () => number;

  constructor(policy: WarmPolicy, now: () => number = Date.now) {
    this.#policy = policy;
    this.#now = now;
  }

  /** A ready connection to this address, if one is waiting and fresh. */
  take(key: string): WarmConnection | undefined {
    const list = this.#ready.get(key);
    while (list && list.length > 0) {
      const warm = list.shift()!;
      warm.forget();
      if (this.#now() - warm.since <= this.#policy.maxAgeMs && !warm.socket.destroyed) return warm;
      warm.socket.destroy();
    }
    return undefined;
  }

  /**
   * Opens connections until `perAddress` are ready or opening. `open` resolves once a connection is
   * usable (connected, TLS done) or undefined when it failed.
   */
  refill(key: string, open: () => Promise<Socket | undefined>): void {
    const ready = this.#ready.get(key)?.length ?? 0;
    let opening = this.#opening.get(key) ?? 0;
    for (; ready + opening < this.#policy.perAddress; opening++) {
      this.#opening.set(key, opening + 1);
      void open().then((socket) => {
        this.#opening.set(key, (this.#opening.get(key) ?? 1) - 1);
        if (socket) this.#keep(key, socket, false);
      });
    }
  }

  /**
   * A connection the store handed back after LOGOUT, its resync line sent: kept for the next login
   * to its address once the store greets again, or closed when the address has enough.
   */
  give(socket: Socket): void {
    const key = `${socket.remoteAddress}:${socket.remotePort}`;
    if (socket.destroyed || this.readyFor(key) >= this.#policy.maxPerAddress) socket.destroy();
    else {
      this.#keep(key, socket, true);
      // The splice stopped reading it at the marker; the greeting after the resync is the pool's.
      socket.resume();
    }
  }

  /** How many are ready for this address now. */
  readyFor(key: string): number {
    return this.#ready.get(key)?.length ?? 0;
  }

  /** Closes every waiting connection (the program stops). */
  close(): void {
    for (const list of this.#ready.values()) for (const warm of list) warm.socket.destroy();
    this.#ready.clear();
  }

  #keep(key: string, socket: Socket, handedBack: boolean): void {
    const list = this.#ready.get(key) ?? [];
    this.#ready.set(key, list);
    const chunks: Buffer[] = [];
    let bytes = 0;
    const drop = () => {
      const at = list.indexOf(warm);
      if (at >= 0) list.splice(at, 1);
      forget();
      socket.destroy();
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      bytes += chunk.length;
      if (bytes > this.#policy.maxReceivedBytes) drop();
    };
    const forget = () => {
      socket.off('data', onData);
      socket.off('close', drop);
      socket.off('error', drop);
      clearTimeout(timer);
    };
    const timer = setTimeout(drop, this.#policy.maxAgeMs);
    timer.unref();
    socket.on('data', onData);
    socket.once('close', drop);
    socket.once('error', drop);
    const warm: Waiting = {
      socket,
      since: this.#now(),
      handedBack,
      get received() {
        return Buffer.concat(chunks);
      },
      forget,
    };
    list.push(warm);
  }
}
