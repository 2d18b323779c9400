// What the MMP's sessions before login share (IMAP, POP3 and SMTP submission), as the skeleton of a
// pure state machine: the phases, the queue of actions, the count of commands and of errors, the
// bytes that arrive while a login is checked (held for the backend, bounded), the goodbyes. Each
// protocol supplies its reader (`hold`, `pump`), its wording and its commands; sockets and timers
// are the shell's (client-session.ts).
import { ActionQueue } from './action-queue.ts';
import type { LineReader } from './line-reader.ts';
import type { LoginReply } from './routing/login-replies.ts';

export type PreLoginPhase = 'ready' | 'tls-starting' | 'logging-in' | 'proxying' | 'closed';

export type PreLoginAction =
  | { kind: 'send'; data: string }
  /** Upgrade the socket, then call tlsStarted(). */
  | { kind: 'start-tls' }
  /**
   * Check these credentials, then call loginFailed() or loginSucceeded(). `tag`: IMAP's, for the
   * answer; `helo`: SMTP's, the name the client gave, passed on to the relay.
   */
  | { kind: 'login'; login: string; password: string; tag?: string; helo?: string }
  /** SMTP without AUTH: a recent POP or IMAP login from this address may stand for one (POP-before-SMTP). */
  | { kind: 'login-by-address'; helo: string }
  /** Logged in at the backend: hand it `pipelined` (what the client sent behind its login) and splice. */
  | { kind: 'splice'; pipelined: Buffer }
  | { kind: 'close' };

/** What every protocol's command modules may do with the session (each protocol adds its own). */
export interface SessionView<Line> {
  readonly secure: boolean;
  readonly starttlsOffered: boolean;
  readonly plaintextLogin: boolean;
  /** One response line (CRLF added). */
  send(line: string): void;
  /** The next client line answers a continuation request (SASL), and is not a command. */
  expectLine(handler: (line: Line) => void): void;
  close(): void;
}

/** What the skeleton needs of a protocol's reader. */
export interface ClientInput {
  push(chunk: Buffer): void;
  /** Bytes held, not read yet. */
  readonly buffered: number;
  /** Hands over (and forgets) what is held: for the backend, after the login. */
  takeUnread(): Buffer;
}

export interface PreLoginWording {
  tooManyBadCommands: string;
  tooManyCommands: string;
  tooMuchWhileLoggingIn: string;
  /** The last line before closing, for a reason (too slow, draining). */
  bye(reason: 'timeout' | 'shutdown'): string;
}

export interface PreLoginCounts {
  /** Erring commands before the session is ended. */
  maxBadCommands: number;
  /** Commands before login, all told. */
  maxCommands: number;
  /** What the client may send behind its login while it is checked (held for the backend). */
  maxPipelinedBytes: number;
}

/** What the shell sees of any protocol's session before login. */
export type PreLoginSession = Pick<
  PreLoginCore<unknown>,
  'greeting' | 'receive' | 'tlsStarted' | 'loginFailed' | 'loginSucceeded' | 'timeout' | 'goodbye' | 'isIdle'
>;

export abstract class PreLoginCore<Line = string> {
  protected phase: PreLoginPhase = 'ready';
  protected readonly out = new ActionQueue<PreLoginAction>();
  /** The next line answers a continuation request (SASL), and is not a command. */
  protected lineHandler: ((line: Line) => void) | undefined;
  #secure: boolean;
  #badCommands = 0;
  #commands = 0;
  readonly #counts: PreLoginCounts;
  readonly #wording: PreLoginWording;

  constructor(secure: boolean, counts: PreLoginCounts, wording: PreLoginWording) {
    this.#secure = secure;
    this.#counts = counts;
    this.#wording = wording;
  }

  abstract greeting(): PreLoginAction[];
  /** The protocol's reader of what the client sends (it holds what is not read yet). */
  protected abstract get input(): ClientInput;
  /** Reads and answers commands while the phase is `ready`. */
  protected abstract pump(): void;
  /** The line telling the client its login failed. */
  protected abstract failureLine(reply: LoginReply, tag: string | undefined): string;

  get secure(): boolean {
    return this.#secure;
  }

  /** Between commands, with nothing half-read: closing now loses nothing. */
  isIdle(): boolean {
    return this.phase === 'ready' && this.input.buffered === 0 && !this.lineHandler;
  }

  receive(chunk: Buffer): PreLoginAction[] {
    if (this.phase === 'logging-in') {
      this.input.push(chunk);
      if (this.input.buffered > this.#counts.maxPipelinedBytes) {
        this.out.send(this.#wording.tooMuchWhileLoggingIn);
        this.close();
      }
      return this.out.flush();
    }
    if (this.phase !== 'ready') return [];
    this.input.push(chunk);
    this.pump();
    return this.out.flush();
  }

  tlsStarted(): PreLoginAction[] {
    if (this.phase !== 'tls-starting') return [];
    this.#secure = true;
    this.phase = 'ready';
    return [];
  }

  loginFailed(reply: LoginReply, tag?: string): PreLoginAction[] {
    if (this.phase !== 'logging-in') return [];
    this.phase = 'ready';
    this.out.send(this.failureLine(reply, tag));
    this.pump();
    return this.out.flush();
  }

  /** Logged in at the backend, whose answer the shell has passed on: from now on, only bytes. */
  loginSucceeded(): PreLoginAction[] {
    if (this.phase !== 'logging-in') return [];
    this.phase = 'proxying';
    this.out.push({ kind: 'splice', pipelined: this.pipelined() });
    return this.out.flush();
  }

  /** What goes to the backend before anything else the client sends. */
  protected pipelined(): Buffer {
    return this.input.takeUnread();
  }

  /** The pre-login timer ran out. */
  timeout(): PreLoginAction[] {
    return this.#bye('timeout');
  }

  /** The program is draining. */
  goodbye(): PreLoginAction[] {
    return this.#bye('shutdown');
  }

  #bye(reason: 'timeout' | 'shutdown'): PreLoginAction[] {
    if (this.phase === 'closed' || this.phase === 'proxying') return [];
    this.out.send(this.#wording.bye(reason));
    this.close();
    return this.out.flush();
  }

  /** Counts a command; false (and the session ends) past the limit. */
  protected countCommand(): boolean {
    if (++this.#commands <= this.#counts.maxCommands) return true;
    this.out.send(this.#wording.tooManyCommands);
    this.close();
    return false;
  }

  protected countBad(): void {
    if (++this.#badCommands < this.#counts.maxBadCommands) return;
    this.out.send(this.#wording.tooManyBadCommands);
    this.close();
  }

  /** The part of a command context every protocol shares; `secure` follows STARTTLS. */
  protected sessionView(options: { starttls: boolean; plaintextLogin: boolean }): SessionView<Line> {
    const isSecure = () => this.secure;
    return {
      get secure() {
        return isSecure();
      },
      starttlsOffered: options.starttls,
      plaintextLogin: options.plaintextLogin,
      send: (line) => this.out.send(line),
      expectLine: (handler) => {
        this.lineHandler = handler;
      },
      close: () => this.close(),
    };
  }

  /**
   * Reads the lines of a line protocol (POP3, SMTP) while the phase is `ready`: an overlong line is
   * answered `tooLong` and counted as an error, a line awaited by a continuation goes to its
   * handler, any other to `command`.
   */
  protected pumpLines(
    this: PreLoginCore<string>,
    reader: LineReader,
    tooLong: string,
    command: (line: string, raw: Buffer) => void,
  ): void {
    while (this.phase === 'ready') {
      const event = reader.next();
      if (!event) return;
      if (event.kind === 'too-long') {
        this.lineHandler = undefined;
        this.out.send(tooLong);
        this.countBad();
        continue;
      }
      const handler = this.lineHandler;
      if (handler) {
        this.lineHandler = undefined;
        handler(event.line);
        continue;
      }
      command(event.line, event.raw);
    }
  }

  protected startTls(): void {
    this.phase = 'tls-starting';
    this.out.push({ kind: 'start-tls' });
  }

  protected loggingIn(action: Extract<PreLoginAction, { kind: 'login' | 'login-by-address' }>): void {
    this.phase = 'logging-in';
    this.out.push(action);
  }

  protected close(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.lineHandler = undefined;
    this.out.push({ kind: 'close' });
  }
}
