// A POP3 session before login, as a pure state machine: bytes in, actions out, like the IMAP one
// (imap/imap-session.ts), on the same skeleton (pre-login-core.ts). Lines only: POP3 has no literals.
import { LineReader } from '../line-reader.ts';
import { pop3PreLoginLimits } from '../limits.ts';
import { PreLoginCore, type ClientInput, type PreLoginAction } from '../pre-login-core.ts';
import type { LoginReply } from '../routing/login-replies.ts';
import { pop3PreLoginCapabilities } from './capabilities.ts';
import type { Pop3CommandContext, Pop3State } from './command.ts';
import { PRE_LOGIN_COMMANDS } from './commands/index.ts';
import { dispatch } from './dispatcher.ts';

export type Pop3Action = PreLoginAction;

export interface Pop3SessionOptions {
  secure: boolean;
  starttls: boolean;
  plaintextLogin: boolean;
  storeCapabilities: readonly string[];
  maxPipelinedBytes: number;
  limits?: typeof pop3PreLoginLimits;
}

const STATE_OF = {
  ready: 'authorization',
  'tls-starting': 'tls-starting',
  'logging-in': 'logging-in',
  proxying: 'proxying',
  closed: 'closed',
} as const satisfies Record<string, Pop3State>;

export class Pop3PreLoginSession extends PreLoginCore {
  readonly #options: Pop3SessionOptions;
  readonly #limits: typeof pop3PreLoginLimits;
  readonly #reader: LineReader;
  readonly #context: Pop3CommandContext;

  constructor(options: Pop3SessionOptions) {
    const limits = options.limits ?? pop3PreLoginLimits;
    super(
      options.secure,
      { ...limits, maxPipelinedBytes: options.maxPipelinedBytes },
      {
        tooManyBadCommands: '-ERR Too many invalid commands',
        tooManyCommands: '-ERR Too many commands before login',
        tooMuchWhileLoggingIn: '-ERR Too much input while logging in',
        bye: (reason) =>
          reason === 'timeout'
            ? '-ERR [SYS/TEMP] Autologout; too long before login'
            : '-ERR [SYS/TEMP] Server shutting down; reconnect',
      },
    );
    this.#options = options;
    this.#limits = limits;
    this.#reader = new LineReader(limits.maxLineBytes);
    this.#context = Object.assign(this.sessionView(options), {
      user: undefined as string | undefined,
      capabilities: () => this.#capabilities(),
      startTls: () => {
        // RFC 2595 section 4: what came before the handshake does not count.
        this.#reader.reset();
        this.#context.user = undefined;
        this.startTls();
      },
      login: (login: string, password: string) => this.loggingIn({ kind: 'login', login, password }),
    });
  }

  get state(): Pop3State {
    return STATE_OF[this.phase];
  }

  greeting(): Pop3Action[] {
    this.out.send('+OK POP3 proxy ready');
    return this.out.flush();
  }

  protected get input(): ClientInput {
    return this.#reader;
  }

  /** RFC 3206 response codes: AUTH (the user's fault) or SYS/TEMP, SYS/PERM (ours). */
  protected failureLine(reply: LoginReply): string {
    return `-ERR [${reply.pop3Code}] ${reply.text}`;
  }

  #capabilities(): readonly string[] {
    return pop3PreLoginCapabilities({
      store: this.#options.storeCapabilities,
      secure: this.secure,
      starttls: this.#options.starttls,
      plaintextLogin: this.#options.plaintextLogin,
    });
  }

  protected pump(): void {
    this.pumpLines(this.#reader, `-ERR Line too long (over ${this.#limits.maxLineBytes} bytes)`, (line) => {
      if (line === '' || !this.countCommand()) return;
      if (dispatch(PRE_LOGIN_COMMANDS, this.state, this.#context, line) === 'bad') this.countBad();
    });
  }
}
