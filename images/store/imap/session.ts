// One IMAP connection: the reader of its commands, its state, its account and selected mailbox,
// and the pump that hands each command to the dispatcher one at a time. The socket sits behind
// the Transport interface (imap-server.ts), so the session is driven the same way by tests.
import type { Account, MessageStore } from '../mailbox/api.ts';
import { imapLimits } from '../limits.ts';
import { capabilityLine } from './capabilities.ts';
import type { SessionState } from './command.ts';
import { commandLabel, dispatch } from './dispatcher.ts';
import { CommandReader, type ReaderEvent } from '../../lib/imap/command-reader.ts';
import { encodeLine, encodeStatus, type ImapValue, type Status } from './protocol/response.ts';
import { flagAtoms, type KnownMessage, type SelectedMailbox } from './selected-mailbox.ts';
import { handbackLine, type HandbackNonces } from '../../lib/contract/handback.ts';
import { LiteralSpool } from './literal-spool.ts';

export interface Transport {
  /**
   * false: the peer reads slowly; wait for drain() before writing much more. `written` runs once
   * the transport holds no reference to `bytes` any more (the caller may reuse the buffer then).
   */
  write(bytes: Buffer, written?: () => void): boolean;
  drain(): Promise<void>;
  pause(): void;
  resume(): void;
  close(): void;
  readonly secure: boolean;
  readonly remoteAddress: string;
  /** STARTTLS: upgrade in place; undefined when the listener has no certificate. */
  startTls?: () => Promise<void>;
  /** COMPRESS=DEFLATE (RFC 4978): everything after this is deflated both ways. */
  startCompression?: () => void;
  /** Keeps what is written from going out at the end of this turn, until flushOutput. */
  holdOutput?: () => void;
  /** Sends what holdOutput kept (and keeps nothing back from here on). */
  flushOutput?: () => void;
}

/**
 * Who may log in: the MMP's proxy identity and shared secret (docs/design.md), compared in constant
 * time; the same shape as the kit's store-login proof, which the program passes in.
 */
export type LoginCheck = (credentials: {
  authzid: string;
  authcid: string;
  password: string;
}) => { ok: true; user: string } | { ok: false; reason: string };

export interface SessionLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface SessionMetrics {
  command(name: string, status: string): void;
}

export interface SessionOptions {
  store: MessageStore;
  login: LoginCheck;
  hostname: string;
  maxMessageBytes: number;
  log?: SessionLog;
  metrics?: SessionMetrics;
  /** Sessions per user, shared by every session of the server. */
  userSessions?: Map<string, number>;
  /** Ends IDLE and the session with BYE (graceful drain). */
  draining?: () => boolean;
  /**
   * The connection can be handed back after LOGOUT (handback.ts): called with the resync nonce and
   * what the client sent behind its LOGOUT, once the session has ended without closing it.
   */
  onHandback?: (resync: string, unread: Buffer) => void;
}

export class ImapSession {
  readonly options: SessionOptions;
  readonly transport: Transport;
  readonly reader: CommandReader;
  state: SessionState = 'not-authenticated';
  user: string | undefined;
  account: Account | undefined;
  selected: SelectedMailbox | undefined;
  /** ENABLE'd extensions (RFC 5161): CONDSTORE, QRESYNC, UTF8=ACCEPT, IMAP4REV2. */
  readonly enabled = new Set<string>();
  /** A CONDSTORE-enabling command was used (RFC 7162 3.1): MODSEQ goes into FETCH. */
  condstoreUsed = false;
  /** The client's address as the MMP reported it (ID x-originating-ip), else the socket's. */
  clientAddress: string;
  /**
   * An x-originating-ip sent before login, as the MMP sends it (and Dovecot takes it): believed
   * once the proxy's login succeeds, since until then anyone could have sent it.
   */
  claimedClientAddress: string | undefined;
  /** The MMP's handback nonces from its ID: claimed before login, granted by the proxy's login. */
  claimedHandback: HandbackNonces | undefined;
  handback: HandbackNonces | undefined;
  compressed = false;
  private badCommands = 0;
  private pumping = false;
  /** In IDLE: for draining, a session waiting in IDLE is idle (it hears BYE and reconnects). */
  idling = false;
  private closed = false;
  private lineWaiter: ((event: ReaderEvent) => void) | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private rateWindowStart = Date.now();
  private rateCount = 0;
  /** Times this session was slowed by the command rate (for tests and logs). */
  throttled = 0;
  private countedUser: string | undefined;
  private onClose: (() => void)[] = [];
  /** Streamed APPEND literals of the command being read: discarded once it is answered. */
  private spools: LiteralSpool[] = [];
  private markClosed: () => void = () => {};
  /** Settles when the session has ended, however it ended (for the program's session gauge). */
  readonly ended: Promise<void> = new Promise((resolve) => (this.markClosed = resolve));

  constructor(transport: Transport, options: SessionOptions) {
    this.transport = transport;
    this.options = options;
    this.clientAddress = transport.remoteAddress;
    this.reader = new CommandReader({
      maxLineBytes: imapLimits.maxLineBytes,
      maxLiteralBytes: imapLimits.maxLiteralBytes,
      maxAppendLiteralBytes: options.maxMessageBytes,
      maxLiteralMinusBytes: imapLimits.maxLiteralMinusBytes,
      maxCommandBytes: options.maxMessageBytes * imapLimits.maxCommandMessages + imapLimits.maxLineBytes,
      maxDiscardBytes: imapLimits.maxDiscardBytes,
      maxNestingDepth: imapLimits.maxNestingDepth,
      maxTokens: imapLimits.maxTokens,
      streamAppendLiteralBytes: imapLimits.streamAppendLiteralBytes,
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** IMAP4rev2 ENABLE'd: no \Recent, no RECENT, ESEARCH-style SEARCH answers. */
  get rev2(): boolean {
    return this.enabled.has('IMAP4REV2');
  }

  /** A message's FLAGS list: \Recent only for IMAP4rev1 (RFC 9051 dropped it). */
  flagList(m: KnownMessage): ImapValue[] {
    return flagAtoms(m, !this.rev2);
  }

  get utf8(): boolean {
    return this.enabled.has('UTF8=ACCEPT');
  }

  get condstore(): boolean {
    return this.condstoreUsed || this.enabled.has('CONDSTORE') || this.enabled.has('QRESYNC');
  }

  start(): void {
    this.send(
      encodeStatus(
        '*',
        'OK',
        `${this.options.hostname} IMAP4rev2 ready`,
        `CAPABILITY ${capabilityLine(this)}`,
      ),
    );
    this.armIdleTimer();
  }

  /** Bytes from the socket (after TLS and inflate). */
  receive(chunk: Buffer): void {
    if (this.closed) return;
    this.reader.push(chunk);
    this.armIdleTimer();
    if (this.lineWaiter) {
      const event = this.reader.next();
      if (event) {
        const waiter = this.lineWaiter;
        this.lineWaiter = undefined;
        waiter(event);
      }
      return;
    }
    if (this.pumping && this.reader.buffered > imapLimits.maxLineBytes * 2) this.transport.pause();
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    let answered = false;
    try {
      while (!this.closed) {
        const event = this.reader.next();
        if (!event) break;
        // A command that came with the one before it (pipelined) is answered in the same write:
        // the MMP's ID and AUTHENTICATE, whose login opens the account over several turns, were
        // two writes and two wake-ups of the MMP for every login. Held until the input runs dry,
        // the client waits for a continuation, or the output passes the drain bound.
        if (answered) this.transport.holdOutput?.();
        await this.handle(event);
        answered = true;
      }
    } finally {
      this.pumping = false;
      this.transport.flushOutput?.();
      if (!this.closed) this.transport.resume();
    }
  }

  private async handle(event: ReaderEvent): Promise<void> {
    switch (event.kind) {
      case 'continue':
        this.send(Buffer.from('+ Ready for literal data\r\n'));
        return;
      case 'literal-start': {
        if (event.continue) this.send(Buffer.from('+ Ready for literal data\r\n'));
        // Only a session that may APPEND gets a file; before login the bytes are dropped.
        const keep = this.state === 'authenticated' || this.state === 'selected';
        const spool = await LiteralSpool.open(this.options.store, keep);
        this.spools.push(spool);
        event.literal.sink = spool;
        if (this.closed) await this.discardSpools();
        return;
      }
      case 'literal-data':
        await (event.literal.sink as LiteralSpool).write(event.data);
        return;
      case 'line':
        this.send(encodeStatus('*', 'BAD', 'Unexpected line'));
        return;
      case 'fatal':
        this.bye(event.text, event.code);
        await this.discardSpools();
        return;
      case 'reject':
        await this.discardSpools();
        this.send(encodeStatus(event.tag ?? '*', event.status, event.text, event.code));
        this.options.metrics?.command('unparsed', event.status);
        this.countBad();
        return;
      case 'command': {
        let result;
        try {
          await this.throttle();
          if (this.closed) return;
          result = await dispatch(this, event.command);
        } finally {
          await this.discardSpools();
        }
        if (this.closed) return;
        if (!result.silent)
          this.send(encodeStatus(event.command.tag, result.status, result.text, result.code));
        this.options.metrics?.command(commandLabel(event.command.name), result.status);
        if (result.status === 'BAD') this.countBad();
        else this.badCommands = 0;
        if (this.state === 'logout') {
          if (this.handback && !this.compressed && this.options.onHandback) this.handBack(this.handback);
          else this.close();
        }
        return;
      }
    }
  }

  private async discardSpools(): Promise<void> {
    if (this.spools.length === 0) return;
    for (const spool of this.spools.splice(0)) await spool.discard();
  }

  private countBad(): void {
    if (++this.badCommands >= imapLimits.maxBadCommands) this.bye('Too many invalid commands');
  }

  /** Past maxCommandsPerSecond, waits for the next one-second window. */
  private async throttle(): Promise<void> {
    const now = Date.now();
    if (now - this.rateWindowStart >= 1000) {
      this.rateWindowStart = now;
      this.rateCount = 0;
    }
    if (++this.rateCount <= imapLimits.maxCommandsPerSecond) return;
    this.throttled++;
    // What is answered goes out before the wait, not after it.
    this.transport.flushOutput?.();
    await new Promise((resolve) => setTimeout(resolve, this.rateWindowStart + 1000 - now));
    this.rateWindowStart = Date.now();
    this.rateCount = 1;
  }

  /** The next raw line (AUTHENTICATE responses, IDLE's DONE), or undefined if the session closed. */
  readLine(): Promise<Buffer | undefined> {
    this.reader.lineMode = true;
    const ready = this.reader.next();
    const settle = (event: ReaderEvent): Buffer | undefined => {
      this.reader.lineMode = false;
      if (event.kind === 'line') return event.line;
      return undefined;
    };
    if (ready) return Promise.resolve(settle(ready));
    // The client answers only what it has seen (a continuation, IDLE's "+ idling").
    this.transport.flushOutput?.();
    this.transport.resume();
    return new Promise((resolve) => {
      this.lineWaiter = (event) => resolve(settle(event));
      this.onClose.push(() => resolve(undefined));
    });
  }

  /** Stops waiting for a line (IDLE ended by a change or the server). */
  cancelLine(): void {
    this.lineWaiter = undefined;
    this.reader.lineMode = false;
  }

  /** `written`: see Transport.write; at once when the session is closed (nothing is written). */
  send(bytes: Buffer, written?: () => void): void {
    if (this.closed) {
      written?.();
      return;
    }
    this.transport.write(bytes, written);
  }

  untagged(values: readonly ImapValue[]): void {
    this.send(encodeLine(values, { utf8: this.utf8 }));
  }

  status(tag: string, status: Status, text: string, code?: string): void {
    this.send(encodeStatus(tag, status, text, code));
  }

  /** Waits while the client reads slowly, so a big FETCH holds little memory. */
  async drain(): Promise<void> {
    await this.transport.drain();
  }

  /** Counts a login against the per-user limit; false when over it. */
  claimUserSession(user: string): boolean {
    const counts = this.options.userSessions;
    if (!counts) return true;
    const n = counts.get(user) ?? 0;
    if (n >= imapLimits.maxSessionsPerUser) return false;
    counts.set(user, n + 1);
    this.countedUser = user;
    return true;
  }

  /** Between commands or in IDLE: a drain may close it now without losing anything. */
  isIdle(): boolean {
    return !this.pumping || this.idling;
  }

  /** The drain's goodbye: RFC 9051 7.1.5, BYE then close; clients reconnect elsewhere. */
  goodbye(): void {
    this.bye('Server shutting down, reconnect elsewhere', 'UNAVAILABLE');
  }

  bye(text: string, code?: string): void {
    this.send(encodeStatus('*', 'BYE', text, code));
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.release();
    this.transport.close();
    this.markClosed();
  }

  /** After LOGOUT's answer: the marker, then the session ends and the connection is the MMP's. */
  private handBack({ marker, resync }: HandbackNonces): void {
    this.send(Buffer.from(handbackLine(marker)));
    this.release();
    this.markClosed();
    this.options.onHandback!(resync, this.reader.takeUnread());
  }

  /** Everything the session holds, let go; the transport is the caller's to close or hand on. */
  private release(): void {
    this.closed = true;
    clearTimeout(this.idleTimer);
    this.selected?.view.close();
    this.selected = undefined;
    this.account?.close();
    this.account = undefined;
    if (this.countedUser && this.options.userSessions) {
      const n = (this.options.userSessions.get(this.countedUser) ?? 1) - 1;
      if (n <= 0) this.options.userSessions.delete(this.countedUser);
      else this.options.userSessions.set(this.countedUser, n);
    }
    for (const fn of this.onClose.splice(0)) fn();
    void this.discardSpools();
  }

  /** The socket went away. */
  disconnected(): void {
    this.close();
  }

  private armIdleTimer(): void {
    clearTimeout(this.idleTimer);
    const seconds =
      this.state === 'not-authenticated' ? imapLimits.preauthTimeoutSeconds : imapLimits.idleTimeoutSeconds;
    this.idleTimer = setTimeout(() => this.bye('Autologout; idle for too long'), seconds * 1000);
    this.idleTimer.unref();
  }
}
