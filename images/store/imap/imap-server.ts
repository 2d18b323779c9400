// The IMAP listener: sockets in, sessions out. Everything protocol is in session.ts and below; this
// file only moves bytes — plain, STARTTLS-upgraded or implicit TLS, and deflated after COMPRESS
// (RFC 4978) — and closes every session with BYE on drain.
import { createServer, type Server, type Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import { constants as zlib, createDeflateRaw, createInflateRaw, type DeflateRaw } from 'node:zlib';
import type { DrainableSession } from '../../lib/server/listener.ts';
import { imapLimits } from '../limits.ts';
import { ResyncScanner } from './handback.ts';
import { ImapSession, type SessionOptions, type Transport } from './session.ts';

export interface ImapServerOptions extends Omit<SessionOptions, 'userSessions' | 'draining'> {
  /** For STARTTLS (tls: starttls) or for the whole connection (implicit). */
  secureContext?: () => SecureContext;
  tls: 'none' | 'starttls' | 'implicit';
  maxConnections: number;
  onSession?: (change: 1 | -1) => void;
}

export class ImapServer {
  private readonly server: Server;
  private readonly sessions = new Set<ImapConnection>();
  private readonly userSessions = new Map<string, number>();
  private readonly options: ImapServerOptions;
  private draining = false;

  constructor(options: ImapServerOptions) {
    this.options = options;
    this.server = createServer((socket) => this.accept(socket));
    this.server.maxConnections = options.maxConnections;
  }

  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        const address = this.server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Graceful drain: no new connections; IDLE and every other session hear BYE. */
  async close(): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const session of this.sessions)
      session.bye('Server shutting down, reconnect elsewhere', 'UNAVAILABLE');
    await closed;
  }

  private accept(raw: Socket): void {
    if (this.draining) {
      raw.end('* BYE Server shutting down\r\n');
      return;
    }
    const session = openImapConnection(raw, {
      ...this.options,
      remoteAddress: raw.remoteAddress ?? '',
      userSessions: this.userSessions,
      draining: () => this.draining,
    });
    this.sessions.add(session);
    this.options.onSession?.(1);
    raw.on('close', () => {
      if (this.sessions.delete(session)) this.options.onSession?.(-1);
    });
  }
}

export interface ConnectionOptions extends SessionOptions {
  tls: 'none' | 'starttls' | 'implicit';
  secureContext?: () => SecureContext;
  /** The client's address (after a PROXY header, if the listener reads one). */
  remoteAddress: string;
  /** The listener has already wrapped the socket in TLS (implicit TLS done by the program's shell). */
  alreadySecure?: boolean;
  /** A session begins: the connection's first, and each after a handback. */
  onSessionStart?: () => void;
}

/** A connection's sessions: one, or one after another when each LOGOUT hands it back (handback.ts). */
export interface ImapConnection extends DrainableSession {
  /** Settles when the connection has closed. */
  readonly ended: Promise<void>;
  bye(text: string, code?: string): void;
}

/**
 * One accepted connection as IMAP sessions: TLS first for an implicit-TLS listener, STARTTLS
 * offered on a starttls one. Used by ImapServer here and by the store program's listener, which
 * drains the returned connection (isIdle, goodbye).
 */
export function openImapConnection(raw: Socket, options: ConnectionOptions): ImapConnection {
  const secureContext = options.secureContext;
  // Responses are small writes (untagged lines, then the tagged one): without TCP_NODELAY, Nagle's
  // algorithm holds the second behind the client's delayed ACK, 40 ms per command (measured).
  raw.setNoDelay(true);
  const implicit = options.tls === 'implicit' && secureContext !== undefined;
  const socket = implicit ? new TLSSocket(raw, { isServer: true, secureContext: secureContext() }) : raw;
  const transport = new SocketTransport(
    socket,
    implicit || options.alreadySecure === true,
    options.remoteAddress,
    options.tls === 'starttls' ? secureContext : undefined,
  );
  /** Between a handback and the resync line: the connection has no session. */
  let waiting = false;
  const make = (): ImapSession => {
    const next = new ImapSession(transport, { ...options, onHandback: handedBack });
    transport.onData = (chunk) => next.receive(chunk);
    options.onSessionStart?.();
    return next;
  };
  function handedBack(resync: string, unread: Buffer): void {
    waiting = true;
    const scanner = new ResyncScanner(resync, imapLimits.handbackDiscardBytes);
    const timer = setTimeout(() => transport.close(), imapLimits.preauthTimeoutSeconds * 1000);
    timer.unref();
    const feed = (chunk: Buffer) => {
      const found = scanner.push(chunk);
      if (found === 'more') return;
      clearTimeout(timer);
      if (found === 'overflow') transport.close();
      else {
        waiting = false;
        session = make();
        session.start();
        if (found.rest.length > 0) session.receive(found.rest);
      }
    };
    transport.onData = feed;
    transport.resume();
    if (unread.length > 0) feed(unread);
  }
  let session: ImapSession;
  let markEnded: () => void = () => {};
  const ended = new Promise<void>((resolve) => (markEnded = resolve));
  raw.on('close', () => {
    session.disconnected();
    markEnded();
  });
  raw.on('error', () => raw.destroy());
  socket.on('error', () => raw.destroy());
  session = make();
  if (socket instanceof TLSSocket && implicit) socket.once('secure', () => session.start());
  else session.start();
  // A listener that read a PROXY header hands the socket over paused.
  socket.resume();
  return {
    ended,
    isIdle: () => waiting || session.isIdle(),
    goodbye: () => (waiting ? transport.close() : session.goodbye()),
    bye: (text, code) => (waiting ? transport.close() : session.bye(text, code)),
  };
}

/** Output queued for a slow reader before a drain() waits (a streamed FETCH, a long answer). */
const PENDING_OUTPUT_BYTES = 1024 * 1024;

class SocketTransport implements Transport {
  onData: (chunk: Buffer) => void = () => {};
  private socket: Socket;
  private deflate: DeflateRaw | undefined;
  private readonly listener = (chunk: Buffer) => this.onData(chunk);
  secure: boolean;
  readonly remoteAddress: string;
  startTls?: () => Promise<void>;

  constructor(
    socket: Socket,
    secure: boolean,
    remoteAddress: string,
    secureContext: (() => SecureContext) | undefined,
  ) {
    this.socket = socket;
    this.secure = secure;
    this.remoteAddress = remoteAddress;
    socket.on('data', this.listener);
    if (secureContext) this.startTls = () => this.upgrade(secureContext());
  }

  write(bytes: Buffer, written?: () => void): boolean {
    // What one turn of the event loop writes leaves in one segment: a FETCH of 25 headers is one
    // write(2), not 26.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      setImmediate(this.uncorkAtTurnEnd);
    }
    // A stream calls back once the chunk is taken (by the kernel, by TLS, by zlib), or with an
    // error once it is destroyed: either way it holds the buffer no longer.
    const done = written && (() => written());
    if (this.deflate) {
      this.deflate.write(bytes, done);
      // Each response is flushed whole, so the client can act on it (RFC 4978 section 4).
      this.deflate.flush(zlib.Z_SYNC_FLUSH);
      return this.pending() < PENDING_OUTPUT_BYTES;
    }
    return this.socket.write(bytes, done);
  }

  /** Output not yet taken by the kernel: the socket's queue and, after COMPRESS, zlib's input. */
  private pending(): number {
    return this.socket.writableLength + (this.deflate?.writableLength ?? 0);
  }

  private corked = false;
  /** The session's holdOutput: answers to pipelined commands go out together. */
  private held = false;
  private readonly uncork = (): void => {
    if (!this.corked) return;
    this.corked = false;
    this.socket.uncork();
  };
  private readonly uncorkAtTurnEnd = (): void => {
    if (!this.held) this.uncork();
  };

  holdOutput(): void {
    this.held = true;
  }

  flushOutput(): void {
    if (!this.held) return;
    this.held = false;
    this.uncork();
  }

  async drain(): Promise<void> {
    // Below the bound the output stays corked until the end of this turn of the event loop: a FETCH
    // drains after every message, and uncorking there made 25 header responses 25 write(2)s (13%
    // of the store's samples in the mixed loop's FETCH and SEARCH, profiled), not one.
    // zlib's queue first (its output lands in the socket's), then the socket's.
    for (;;) {
      const socket = this.socket;
      if (socket.destroyed) return;
      const full =
        this.deflate && this.deflate.writableLength >= PENDING_OUTPUT_BYTES
          ? this.deflate
          : socket.writableLength >= PENDING_OUTPUT_BYTES
            ? socket
            : undefined;
      if (!full) return;
      this.uncork();
      await new Promise<void>((resolve) => {
        const done = () => {
          full.off('drain', done);
          socket.off('close', done);
          resolve();
        };
        full.on('drain', done);
        socket.on('close', done);
      });
    }
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  close(): void {
    this.uncork();
    if (this.deflate) this.deflate.end(() => this.socket.end());
    else this.socket.end();
    setTimeout(() => this.socket.destroy(), 5000).unref();
  }

  private upgrade(context: SecureContext): Promise<void> {
    this.uncork();
    const plain = this.socket;
    plain.off('data', this.listener);
    const tls = new TLSSocket(plain, { isServer: true, secureContext: context });
    this.socket = tls;
    tls.on('data', this.listener);
    tls.on('error', () => plain.destroy());
    return new Promise((resolve) => {
      tls.once('secure', () => {
        this.secure = true;
        this.startTls = undefined;
        resolve();
      });
    });
  }

  startCompression = (): void => {
    const socket = this.socket;
    const inflate = createInflateRaw();
    const deflate = createDeflateRaw({ level: 6 });
    socket.off('data', this.listener);
    socket.on('data', (chunk: Buffer) => inflate.write(chunk));
    inflate.on('data', this.listener);
    inflate.on('error', () => socket.destroy());
    deflate.on('data', (chunk: Buffer) => socket.write(chunk));
    this.deflate = deflate;
  };
}
