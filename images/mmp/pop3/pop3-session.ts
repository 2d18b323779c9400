// A POP3 session before login, as a pure state machine: bytes in, actions out, like the IMAP one
// (imap/imap-session.ts). Lines only: POP3 has no literals.
import { ActionQueue } from '../action-queue.ts';
import { pop3PreLoginLimits } from '../limits.ts';
import { pop3PreLoginCapabilities } from './capabilities.ts';
import type { Pop3CommandContext, Pop3State } from './command.ts';
import { PRE_LOGIN_COMMANDS } from './commands/index.ts';
import { dispatch } from './dispatcher.ts';

export type Pop3Action =
  | { kind: 'send'; data: string }
  | { kind: 'start-tls' }
  | { kind: 'login'; login: string; password: string }
  | { kind: 'splice'; pipelined: Buffer }
  | { kind: 'close' };

export interface Pop3SessionOptions {
  secure: boolean;
  starttls: boolean;
  plaintextLogin: boolean;
  storeCapabilities: readonly string[];
  maxPipelinedBytes: number;
  limits?: typeof pop3PreLoginLimits;
}

export class Pop3PreLoginSession {
  #state: Pop3State = 'authorization';
  #secure: boolean;
  readonly #options: Pop3SessionOptions;
  readonly #limits: typeof pop3PreLoginLimits;
  #input: Buffer = Buffer.alloc(0);
  /** Dropping the rest of an overlong line. */
  #discarding = false;
  readonly #out = new ActionQueue<Pop3Action>();
  #lineHandler: ((line: string) => void) | undefined;
  #badCommands = 0;
  #commands = 0;
  readonly #context: Pop3CommandContext;

  constructor(options: Pop3SessionOptions) {
    this.#options = options;
    this.#secure = options.secure;
    this.#limits = options.limits ?? pop3PreLoginLimits;
    const isSecure = () => this.#secure;
    this.#context = {
      get secure() {
        return isSecure();
      },
      starttlsOffered: options.starttls,
      plaintextLogin: options.plaintextLogin,
      user: undefined,
      capabilities: () => this.#capabilities(),
      send: (line) => this.#out.send(line),
      expectLine: (handler) => {
        this.#lineHandler = handler;
      },
      startTls: () => {
        this.#state = 'tls-starting';
        // RFC 2595 section 4: what came before the handshake does not count.
        this.#input = Buffer.alloc(0);
        this.#context.user = undefined;
        this.#out.push({ kind: 'start-tls' });
      },
      login: (login, password) => {
        this.#state = 'logging-in';
        this.#out.push({ kind: 'login', login, password });
      },
      close: () => this.#close(),
    };
  }

  get state(): Pop3State {
    return this.#state;
  }

  get secure(): boolean {
    return this.#secure;
  }

  isIdle(): boolean {
    return this.#state === 'authorization' && this.#input.length === 0 && !this.#lineHandler;
  }

  greeting(): Pop3Action[] {
    this.#out.send('+OK POP3 proxy ready');
    return this.#out.flush();
  }

  receive(chunk: Buffer): Pop3Action[] {
    if (this.#state !== 'authorization' && this.#state !== 'logging-in') return [];
    this.#input = this.#input.length === 0 ? chunk : Buffer.concat([this.#input, chunk]);
    if (this.#state === 'logging-in') {
      if (this.#input.length > this.#options.maxPipelinedBytes) {
        this.#out.send('-ERR Too much input while logging in');
        this.#close();
      }
      return this.#out.flush();
    }
    this.#pump();
    return this.#out.flush();
  }

  tlsStarted(): Pop3Action[] {
    if (this.#state === 'tls-starting') {
      this.#secure = true;
      this.#state = 'authorization';
    }
    return [];
  }

  /** `code` is an RFC 3206 response code: AUTH (the user's fault) or SYS/TEMP (ours). */
  loginFailed(code: 'AUTH' | 'SYS/TEMP' | 'SYS/PERM' | 'IN-USE', text: string): Pop3Action[] {
    if (this.#state !== 'logging-in') return [];
    this.#state = 'authorization';
    this.#out.send(`-ERR [${code}] ${text}`);
    this.#pump();
    return this.#out.flush();
  }

  loginSucceeded(): Pop3Action[] {
    if (this.#state !== 'logging-in') return [];
    this.#state = 'proxying';
    const pipelined = this.#input;
    this.#input = Buffer.alloc(0);
    return [{ kind: 'splice', pipelined }];
  }

  timeout(): Pop3Action[] {
    return this.#bye('-ERR [SYS/TEMP] Autologout; too long before login');
  }

  goodbye(): Pop3Action[] {
    return this.#bye('-ERR [SYS/TEMP] Server shutting down; reconnect');
  }

  #bye(line: string): Pop3Action[] {
    if (this.#state === 'closed' || this.#state === 'proxying') return [];
    this.#out.send(line);
    this.#close();
    return this.#out.flush();
  }

  #capabilities(): string[] {
    return pop3PreLoginCapabilities({
      store: this.#options.storeCapabilities,
      secure: this.#secure,
      starttls: this.#options.starttls,
      plaintextLogin: this.#options.plaintextLogin,
    });
  }

  #pump(): void {
    while (this.#state === 'authorization') {
      const limit = this.#limits.maxLineBytes + 2;
      const lf = this.#input.subarray(0, limit).indexOf(0x0a);
      if (lf < 0) {
        if (this.#input.length >= limit) {
          this.#discarding = true;
          this.#input = Buffer.alloc(0);
        }
        return;
      }
      const raw = this.#input.subarray(0, lf + 1);
      this.#input = this.#input.subarray(lf + 1);
      if (this.#discarding) {
        this.#discarding = false;
        this.#lineHandler = undefined;
        this.#out.send(`-ERR Line too long (over ${this.#limits.maxLineBytes} bytes)`);
        this.#countBad();
        continue;
      }
      const line = raw.toString('utf8').replace(/\r?\n$/, '');
      const handler = this.#lineHandler;
      if (handler) {
        this.#lineHandler = undefined;
        handler(line);
        continue;
      }
      if (line === '') continue;
      if (++this.#commands > this.#limits.maxCommands) {
        this.#out.send('-ERR Too many commands before login');
        this.#close();
        return;
      }
      if (dispatch(PRE_LOGIN_COMMANDS, this.#state, this.#context, line) === 'bad') this.#countBad();
    }
  }

  #countBad(): void {
    if (++this.#badCommands < this.#limits.maxBadCommands) return;
    this.#out.send('-ERR Too many invalid commands');
    this.#close();
  }

  #close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#lineHandler = undefined;
    this.#out.push({ kind: 'close' });
  }
}
