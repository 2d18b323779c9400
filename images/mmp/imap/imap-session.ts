// An IMAP session before login, as a pure state machine: bytes in, actions out (send, start TLS,
// check a login, splice, close). The shell (imap-connection.ts) performs the actions and reports
// back; timers and sockets are its business, so every decision here is testable as a transcript.
import { ActionQueue } from '../action-queue.ts';
import { imapPreLoginLimits } from '../limits.ts';
import { acceptsNonSyncLiterals, preLoginCapabilities } from './capabilities.ts';
import type { ImapCommandContext, ImapState } from './command.ts';
import { PRE_LOGIN_COMMANDS } from './commands/index.ts';
import { dispatch } from './dispatcher.ts';
import { PreLoginReader } from './pre-login-reader.ts';

export type ImapAction =
  | { kind: 'send'; data: string }
  /** Upgrade the socket, then call tlsStarted(). */
  | { kind: 'start-tls' }
  /** Check these credentials, then call loginFailed() or loginSucceeded(). */
  | { kind: 'login'; tag: string; login: string; password: string }
  /** Logged in at the store: hand it `pipelined` (what the client sent behind its login) and splice. */
  | { kind: 'splice'; pipelined: Buffer }
  | { kind: 'close' };

export interface ImapSessionOptions {
  /** Already encrypted (implicit TLS, port 993). */
  secure: boolean;
  /** This listener can start TLS (it has a certificate and is not implicit). */
  starttls: boolean;
  /** Allow LOGIN/AUTHENTICATE in clear. Off by default: RFC 8314 section 3. */
  plaintextLogin: boolean;
  /** What the stores offer after login. */
  storeCapabilities: readonly string[];
  /** Maximum bytes the client may pipeline behind its login. */
  maxPipelinedBytes: number;
  limits?: typeof imapPreLoginLimits;
}

export class ImapPreLoginSession {
  #state: ImapState = 'not-authenticated';
  #secure: boolean;
  readonly #options: ImapSessionOptions;
  readonly #limits: typeof imapPreLoginLimits;
  readonly #reader: PreLoginReader;
  readonly #out = new ActionQueue<ImapAction>();
  #lineHandler: ((line: Buffer) => void) | undefined;
  #badCommands = 0;
  #commands = 0;
  readonly #context: ImapCommandContext;

  constructor(options: ImapSessionOptions) {
    this.#options = options;
    this.#secure = options.secure;
    this.#limits = options.limits ?? imapPreLoginLimits;
    this.#reader = new PreLoginReader(this.#limits, acceptsNonSyncLiterals(this.#capabilities()));
    // What a command module may do: a narrow view of the session.
    const isSecure = () => this.#secure;
    this.#context = {
      get secure() {
        return isSecure();
      },
      starttlsOffered: options.starttls,
      plaintextLogin: options.plaintextLogin,
      capabilities: () => this.#capabilities(),
      send: (line) => this.#out.send(line),
      expectLine: (handler) => {
        this.#lineHandler = handler;
        this.#reader.lineMode = true;
      },
      startTls: () => {
        this.#state = 'tls-starting';
        // RFC 9051 section 6.2.1 / RFC 3207 section 4.2: nothing sent before the handshake counts.
        this.#reader.reset();
        this.#out.push({ kind: 'start-tls' });
      },
      login: (tag, login, password) => {
        this.#state = 'logging-in';
        this.#out.push({ kind: 'login', tag, login, password });
      },
      close: () => this.#close(),
    };
  }

  get state(): ImapState {
    return this.#state;
  }

  get secure(): boolean {
    return this.#secure;
  }

  /** Between commands, with nothing half-read: closing now loses nothing. */
  isIdle(): boolean {
    return this.#state === 'not-authenticated' && this.#reader.buffered === 0 && !this.#lineHandler;
  }

  greeting(): ImapAction[] {
    this.#out.send(`* OK [CAPABILITY ${this.#capabilities().join(' ')}] IMAP proxy ready`);
    return this.#out.flush();
  }

  receive(chunk: Buffer): ImapAction[] {
    if (this.#state === 'logging-in') {
      this.#reader.push(chunk);
      if (this.#reader.buffered > this.#options.maxPipelinedBytes) {
        this.#out.send('* BYE Too much input while logging in');
        this.#close();
      }
      return this.#out.flush();
    }
    if (this.#state !== 'not-authenticated') return [];
    this.#reader.push(chunk);
    this.#pump();
    return this.#out.flush();
  }

  tlsStarted(): ImapAction[] {
    if (this.#state !== 'tls-starting') return [];
    this.#secure = true;
    this.#state = 'not-authenticated';
    return [];
  }

  /** The login was refused; `code` is an RFC 5530 response code. */
  loginFailed(tag: string, code: string, text: string): ImapAction[] {
    if (this.#state !== 'logging-in') return [];
    this.#state = 'not-authenticated';
    this.#out.send(`${tag} NO [${code}] ${text}`);
    this.#pump();
    return this.#out.flush();
  }

  /** Logged in at the store, whose answer the shell has passed on: from now on, only bytes. */
  loginSucceeded(): ImapAction[] {
    if (this.#state !== 'logging-in') return [];
    this.#state = 'proxying';
    return [{ kind: 'splice', pipelined: this.#reader.takeUnread() }];
  }

  /** The pre-login timer ran out. */
  timeout(): ImapAction[] {
    return this.#bye('Autologout; too long before login');
  }

  /** The program is draining. */
  goodbye(): ImapAction[] {
    return this.#bye('Server shutting down; reconnect');
  }

  #bye(text: string): ImapAction[] {
    if (this.#state === 'logged-out' || this.#state === 'proxying') return [];
    this.#out.send(`* BYE [UNAVAILABLE] ${text}`);
    this.#close();
    return this.#out.flush();
  }

  #capabilities(): string[] {
    return preLoginCapabilities({
      store: this.#options.storeCapabilities,
      secure: this.#secure,
      starttls: this.#options.starttls,
      plaintextLogin: this.#options.plaintextLogin,
    });
  }

  #pump(): void {
    while (this.#state === 'not-authenticated') {
      const event = this.#reader.next();
      if (!event) return;
      switch (event.kind) {
        case 'continue':
          this.#out.send('+ Ready for literal data');
          break;
        case 'line': {
          const handler = this.#lineHandler;
          this.#lineHandler = undefined;
          handler?.(event.line);
          break;
        }
        case 'reject':
          if (this.#lineHandler) {
            // A SASL response line that was too long: the exchange is over (RFC 9051 section 6.2.2).
            this.#lineHandler = undefined;
          }
          this.#out.send(`${event.tag ?? '*'} BAD ${event.text}`);
          this.#countBad();
          break;
        case 'fatal':
          this.#out.send(`* BYE ${event.text}`);
          this.#close();
          return;
        case 'command': {
          if (++this.#commands > this.#limits.maxCommands) {
            this.#out.send('* BYE Too many commands before login');
            this.#close();
            return;
          }
          const result = dispatch(PRE_LOGIN_COMMANDS, this.#state, this.#context, event.command);
          if (result === 'bad') this.#countBad();
          break;
        }
      }
    }
  }

  #countBad(): void {
    if (++this.#badCommands < this.#limits.maxBadCommands) return;
    this.#out.send('* BYE Too many invalid commands');
    this.#close();
  }

  #close(): void {
    if (this.#state === 'logged-out') return;
    this.#state = 'logged-out';
    this.#lineHandler = undefined;
    this.#out.push({ kind: 'close' });
  }
}
