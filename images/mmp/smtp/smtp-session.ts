// An SMTP submission session before AUTH (ports 587 and 465), as a pure state machine on the same
// skeleton as IMAP and POP3 (pre-login-core.ts): EHLO, STARTTLS, AUTH PLAIN/LOGIN, RSET, NOOP, QUIT;
// no mail transaction before AUTH. Once the shell has the outbound MTA ready for the user (XCLIENT),
// the client is told 235 and the two are spliced: MAIL, RCPT and DATA are the MTA's to answer.
import { LineReader } from '../line-reader.ts';
import { smtpPreAuthLimits } from '../limits.ts';
import { PreLoginCore, type ClientInput, type PreLoginAction } from '../pre-login-core.ts';
import type { LoginReply } from '../routing/login-replies.ts';
import type { SmtpCommandContext } from './command.ts';
import { PRE_AUTH_COMMANDS } from './commands/index.ts';
import { dispatch } from './dispatcher.ts';
import { ehloKeywords } from './extensions.ts';

export interface SmtpSessionOptions {
  /** Already encrypted (implicit TLS, port 465). */
  secure: boolean;
  starttls: boolean;
  plaintextLogin: boolean;
  /** Our name in the greeting and EHLO. */
  hostname: string;
  /** The outbound MTA's EHLO keywords, as it last answered (extensions.ts). */
  relayExtensions: () => readonly string[];
  popBeforeSmtp: boolean;
  maxPipelinedBytes: number;
  limits?: typeof smtpPreAuthLimits;
}

export class SmtpPreAuthSession extends PreLoginCore {
  readonly #options: SmtpSessionOptions;
  readonly #limits: typeof smtpPreAuthLimits;
  readonly #reader: LineReader;
  readonly #context: SmtpCommandContext;
  /** The line being dispatched, as it came. */
  #line: Buffer = Buffer.alloc(0);
  /** How the pending login came: AUTH (answered 235 by us) or a MAIL (answered by the MTA). */
  #pending: { kind: 'auth' } | { kind: 'mail'; line: Buffer } | undefined;

  constructor(options: SmtpSessionOptions) {
    const limits = options.limits ?? smtpPreAuthLimits;
    const host = options.hostname;
    super(
      options.secure,
      { ...limits, maxPipelinedBytes: options.maxPipelinedBytes },
      {
        tooManyBadCommands: `421 4.7.0 ${host} Too many errors; closing`,
        tooManyCommands: `421 4.7.0 ${host} Too many commands before AUTH; closing`,
        tooMuchWhileLoggingIn: `421 4.7.0 ${host} Too much input while authenticating; closing`,
        bye: (reason) =>
          reason === 'timeout'
            ? `421 4.4.2 ${host} Too long before AUTH; closing`
            : `421 4.3.2 ${host} Shutting down; reconnect`,
      },
    );
    this.#options = options;
    this.#limits = limits;
    this.#reader = new LineReader(limits.maxLineBytes);
    this.#context = Object.assign(this.sessionView(options), {
      popBeforeSmtp: options.popBeforeSmtp,
      hostname: host,
      helo: undefined as string | undefined,
      extensions: () =>
        ehloKeywords({
          relay: options.relayExtensions(),
          secure: this.secure,
          starttls: options.starttls,
          plaintextLogin: options.plaintextLogin,
        }),
      startTls: () => {
        this.#reader.reset();
        this.startTls();
      },
      login: (login: string, password: string) => {
        this.#pending = { kind: 'auth' };
        this.loggingIn({ kind: 'login', login, password, helo: this.#context.helo ?? '' });
      },
      loginByAddress: () => {
        this.#pending = { kind: 'mail', line: Buffer.from(this.#line) };
        this.loggingIn({ kind: 'login-by-address', helo: this.#context.helo ?? '' });
      },
    });
  }

  greeting(): PreLoginAction[] {
    this.out.send(`220 ${this.#options.hostname} ESMTP`);
    return this.out.flush();
  }

  protected get input(): ClientInput {
    return this.#reader;
  }

  protected failureLine(reply: LoginReply): string {
    this.#pending = undefined;
    return reply.smtp;
  }

  override loginSucceeded(): PreLoginAction[] {
    if (this.phase !== 'logging-in') return [];
    if (this.#pending?.kind === 'auth') this.out.send('235 2.7.0 Authentication successful');
    return super.loginSucceeded();
  }

  /** A MAIL that started a POP-before-SMTP login is the MTA's to answer: it goes first. */
  protected override pipelined(): Buffer {
    const rest = super.pipelined();
    const pending = this.#pending;
    return pending?.kind === 'mail' ? Buffer.concat([pending.line, rest]) : rest;
  }

  protected pump(): void {
    this.pumpLines(
      this.#reader,
      `500 5.5.6 Line too long (over ${this.#limits.maxLineBytes} bytes)`,
      (line, raw) => {
        if (!this.countCommand()) return;
        this.#line = raw;
        if (dispatch(PRE_AUTH_COMMANDS, this.#context, line) === 'bad') this.countBad();
      },
    );
  }
}
