// An IMAP session before login, as a pure state machine: bytes in, actions out (send, start TLS,
// check a login, splice, close). The shell (client-session.ts) performs the actions and reports
// back; timers and sockets are its business, so every decision here is testable as a transcript.
// The phases, counts and goodbyes are the shared skeleton's (pre-login-core.ts).
import { CommandReader } from '../../lib/imap/command-reader.ts';
import { imapPreLoginLimits } from '../limits.ts';
import { PreLoginCore, type ClientInput, type PreLoginAction } from '../pre-login-core.ts';
import type { LoginReply } from '../routing/login-replies.ts';
import { nonSyncLiteralMode, preLoginCapabilities } from './capabilities.ts';
import type { ImapCommandContext, ImapState } from './command.ts';
import { PRE_LOGIN_COMMANDS } from './commands/index.ts';
import { dispatch } from './dispatcher.ts';

export type ImapAction = PreLoginAction;

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

const STATE_OF = {
  ready: 'not-authenticated',
  'tls-starting': 'tls-starting',
  'logging-in': 'logging-in',
  proxying: 'proxying',
  closed: 'logged-out',
} as const satisfies Record<string, ImapState>;

export class ImapPreLoginSession extends PreLoginCore<Buffer> {
  readonly #options: ImapSessionOptions;
  #reader: CommandReader;
  readonly #newReader: () => CommandReader;
  readonly #context: ImapCommandContext;

  constructor(options: ImapSessionOptions) {
    const limits = options.limits ?? imapPreLoginLimits;
    super(
      options.secure,
      { ...limits, maxPipelinedBytes: options.maxPipelinedBytes },
      {
        tooManyBadCommands: '* BYE Too many invalid commands',
        tooManyCommands: '* BYE Too many commands before login',
        tooMuchWhileLoggingIn: '* BYE Too much input while logging in',
        bye: (reason) =>
          reason === 'timeout'
            ? '* BYE [UNAVAILABLE] Autologout; too long before login'
            : '* BYE [UNAVAILABLE] Server shutting down; reconnect',
      },
    );
    this.#options = options;
    // The store's reader (images/lib/imap), with the limits of a login: APPEND is not valid here.
    this.#newReader = () =>
      new CommandReader(
        {
          ...limits,
          maxAppendLiteralBytes: limits.maxLiteralBytes,
          maxLiteralMinusBytes: limits.maxLiteralBytes,
        },
        nonSyncLiteralMode(this.#capabilities()),
      );
    this.#reader = this.#newReader();
    // What a command module may do: a narrow view of the session.
    const view = this.sessionView(options);
    this.#context = Object.assign(view, {
      capabilities: () => this.#capabilities(),
      expectLine: (handler: (line: Buffer) => void) => {
        this.lineHandler = handler;
        this.#reader.lineMode = true;
      },
      startTls: () => {
        // RFC 9051 section 6.2.1 / RFC 3207 section 4.2: nothing sent before the handshake counts.
        this.#reader = this.#newReader();
        this.startTls();
      },
      login: (tag: string, login: string, password: string) =>
        this.loggingIn({ kind: 'login', tag, login, password }),
    });
  }

  get state(): ImapState {
    return STATE_OF[this.phase];
  }

  greeting(): ImapAction[] {
    this.out.send(`* OK [CAPABILITY ${this.#capabilities().join(' ')}] IMAP proxy ready`);
    return this.out.flush();
  }

  protected get input(): ClientInput {
    return this.#reader;
  }

  protected failureLine(reply: LoginReply, tag: string | undefined): string {
    return `${tag ?? '*'} NO [${reply.imapCode}] ${reply.text}`;
  }

  #capabilities(): readonly string[] {
    return preLoginCapabilities({
      store: this.#options.storeCapabilities,
      secure: this.secure,
      starttls: this.#options.starttls,
      plaintextLogin: this.#options.plaintextLogin,
    });
  }

  protected pump(): void {
    while (this.phase === 'ready') {
      const event = this.#reader.next();
      if (!event) return;
      switch (event.kind) {
        case 'continue':
          this.out.send('+ Ready for literal data');
          break;
        case 'line': {
          const handler = this.lineHandler;
          this.lineHandler = undefined;
          handler?.(event.line);
          break;
        }
        case 'reject':
          // A SASL response line that was too long ends the exchange (RFC 9051 section 6.2.2).
          this.lineHandler = undefined;
          this.out.send(
            `${event.tag ?? '*'} ${event.status} ${event.code ? `[${event.code}] ` : ''}${event.text}`,
          );
          this.countBad();
          break;
        case 'fatal':
          this.out.send(`* BYE ${event.code ? `[${event.code}] ` : ''}${event.text}`);
          this.close();
          return;
        case 'command':
          if (!this.countCommand()) return;
          if (dispatch(PRE_LOGIN_COMMANDS, this.state, this.#context, event.command) === 'bad')
            this.countBad();
          break;
      }
    }
  }
}
