// One LMTP session (RFC 2033): LHLO, MAIL, RCPT, DATA with one reply per accepted recipient, RSET,
// NOOP, QUIT, STARTTLS. Each command is an entry of COMMANDS naming the states it is valid in; the
// loop at the bottom is the dispatcher (state, errors, pipelining). The store has no directory
// (docs/design.md): a recipient in a hosted domain is delivered — the MTA in front checked the
// directory — and anything else is 550 5.1.1.
import type { SecureContext } from 'node:tls';
import type { Logger } from '../../lib/log.ts';
import type { DeliveryOutcome, MessageStore } from '../mailbox/api.ts';
import { isStoreError } from '../mailbox/api.ts';
import { LMTP_LIMITS } from '../limits.ts';
import { DotDecoder } from '../protocol/dot-data.ts';
import { ConnectionClosedError, type LineConnection } from '../protocol/line-connection.ts';
import { checkMailParams, parseCommandLine, parsePath } from './lmtp-commands.ts';

export interface LmtpOptions {
  readonly store: MessageStore;
  readonly hostname: string;
  /** Hosted domains, lower case, ASCII. */
  readonly domains: ReadonlySet<string>;
  readonly maxMessageBytes: number;
  /** For STARTTLS; undefined when this listener offers none. */
  readonly tls: (() => SecureContext) | undefined;
  readonly logger: Logger;
  /** Metrics: one call per recipient after DATA. */
  readonly onOutcome?: (outcome: DeliveryOutcome['kind'], bytes: number) => void;
}

type State = 'greeted' | 'ready' | 'mail' | 'rcpt';

interface Session {
  readonly conn: LineConnection;
  readonly options: LmtpOptions;
  state: State;
  sender: string;
  recipients: string[];
  quit: boolean;
}

interface LmtpCommand {
  readonly states: readonly State[];
  /** Whether the command takes an argument: 'none' refuses one, 'required' needs one. */
  readonly argument: 'none' | 'required' | 'optional';
  handle(session: Session, argument: string): Promise<void> | void;
}

const reply = (session: Session, line: string) => session.conn.write(`${line}\r\n`);

const resetTransaction = (session: Session) => {
  session.sender = '';
  session.recipients = [];
  if (session.state !== 'greeted') session.state = 'ready';
};

const COMMANDS: Record<string, LmtpCommand> = {
  LHLO: {
    states: ['greeted', 'ready', 'mail', 'rcpt'],
    argument: 'required',
    handle(session) {
      resetTransaction(session);
      session.state = 'ready';
      const { options, conn } = session;
      const lines = [
        options.hostname,
        'PIPELINING',
        'ENHANCEDSTATUSCODES',
        '8BITMIME',
        'SMTPUTF8',
        `SIZE ${options.maxMessageBytes}`,
        ...(options.tls && !conn.secure ? ['STARTTLS'] : []),
      ];
      conn.write(lines.map((line, i) => `250${i === lines.length - 1 ? ' ' : '-'}${line}\r\n`).join(''));
    },
  },
  MAIL: {
    states: ['ready'],
    argument: 'required',
    handle(session, argument) {
      const path = parsePath(argument, 'FROM', true);
      if (!path.ok) return reply(session, path.reply);
      const refused = checkMailParams(path.params, session.options.maxMessageBytes);
      if (refused) return reply(session, refused);
      session.sender = path.address;
      session.state = 'mail';
      reply(session, '250 2.1.0 Sender ok');
    },
  },
  RCPT: {
    states: ['mail', 'rcpt'],
    argument: 'required',
    async handle(session, argument) {
      const path = parsePath(argument, 'TO', true);
      if (!path.ok) return reply(session, path.reply);
      if (path.params.size > 0) return reply(session, '555 5.5.4 RCPT parameters are not supported');
      if (session.recipients.length >= LMTP_LIMITS.recipientsPerTransaction)
        return reply(session, '452 4.5.3 Too many recipients');
      const user = path.address.toLowerCase();
      const domain = user.slice(user.lastIndexOf('@') + 1);
      if (!session.options.domains.has(domain))
        return reply(session, `550 5.1.1 <${path.address}> No such user here`);
      // Over quota already: say so now rather than after the data (Dovecot's lmtp_rcpt_check_quota).
      try {
        const account = await session.options.store.openAccount(user);
        try {
          const quota = await account.quota();
          const full =
            (quota.storage.limit !== undefined && quota.storage.usage >= quota.storage.limit) ||
            (quota.messages.limit !== undefined && quota.messages.usage >= quota.messages.limit);
          if (full) return reply(session, `452 4.2.2 <${path.address}> Mailbox full`);
        } finally {
          account.close();
        }
      } catch (error) {
        if (isStoreError(error, 'CANNOT'))
          return reply(session, `550 5.1.3 <${path.address}> Not a mailbox name this store can hold`);
        session.options.logger.error(
          { err: (error as Error).message, recipient: user },
          'cannot open account',
        );
        return reply(session, '451 4.3.0 Mailbox temporarily unavailable');
      }
      session.recipients.push(user);
      session.state = 'rcpt';
      reply(session, '250 2.1.5 Recipient ok');
    },
  },
  DATA: {
    states: ['mail', 'rcpt'],
    argument: 'none',
    async handle(session) {
      // RFC 2033 §4.2: no recipient accepted, no data.
      if (session.state !== 'rcpt') return reply(session, '503 5.5.1 No valid recipients');
      const { conn, options } = session;
      reply(session, '354 Start mail input; end with <CRLF>.<CRLF>');
      const decoder = new DotDecoder();
      async function* body() {
        for (;;) {
          const chunk = await conn.readDataChunk(decoder);
          if (chunk === undefined) return;
          yield chunk;
        }
      }
      let outcomes: readonly DeliveryOutcome[];
      let size = 0;
      const counted = (async function* () {
        for await (const chunk of body()) {
          size += chunk.length;
          yield chunk;
        }
      })();
      try {
        outcomes = await options.store.deliver({
          source: counted,
          recipients: session.recipients,
          sender: session.sender,
        });
      } catch (error) {
        if (error instanceof ConnectionClosedError) {
          session.quit = true;
          return;
        }
        // The data was read to its end (or the store failed before): every recipient gets a 451.
        options.logger.error({ err: (error as Error).message }, 'delivery failed');
        for (let i = 0; i < session.recipients.length; i++)
          reply(session, '451 4.3.0 Temporary failure, try again');
        resetTransaction(session);
        return;
      }
      for (const outcome of outcomes) {
        options.onOutcome?.(outcome.kind, size);
        const who = `<${outcome.recipient}>`;
        switch (outcome.kind) {
          case 'delivered':
            reply(session, `250 2.0.0 ${who} Delivered as UID ${outcome.uid}`);
            break;
          case 'overQuota':
            reply(session, `452 4.2.2 ${who} Mailbox full`);
            break;
          case 'tooBig':
            reply(session, `552 5.3.4 ${who} Message too big (at most ${options.maxMessageBytes} bytes)`);
            break;
          case 'failed':
            options.logger.error({ recipient: outcome.recipient, err: outcome.reason }, 'delivery failed');
            reply(session, `451 4.3.0 ${who} Temporary failure, try again`);
            break;
        }
      }
      options.logger.info(
        { sender: session.sender, recipients: outcomes.map((o) => `${o.recipient}:${o.kind}`), size },
        'lmtp delivery',
      );
      resetTransaction(session);
    },
  },
  RSET: {
    states: ['greeted', 'ready', 'mail', 'rcpt'],
    argument: 'none',
    handle(session) {
      resetTransaction(session);
      reply(session, '250 2.0.0 Ok');
    },
  },
  NOOP: {
    states: ['greeted', 'ready', 'mail', 'rcpt'],
    argument: 'optional',
    handle: (session) => reply(session, '250 2.0.0 Ok'),
  },
  VRFY: {
    states: ['greeted', 'ready', 'mail', 'rcpt'],
    argument: 'required',
    // RFC 5321 §3.5.3: 252 when the server will not verify but may accept.
    handle: (session) => reply(session, '252 2.5.2 Cannot verify; send the message and see'),
  },
  QUIT: {
    states: ['greeted', 'ready', 'mail', 'rcpt'],
    argument: 'none',
    handle(session) {
      reply(session, `221 2.0.0 ${session.options.hostname} closing`);
      session.quit = true;
    },
  },
  STARTTLS: {
    states: ['greeted', 'ready'],
    argument: 'none',
    async handle(session) {
      const { conn, options } = session;
      if (!options.tls || conn.secure) return reply(session, '502 5.5.1 STARTTLS not available');
      reply(session, '220 2.0.0 Ready to start TLS');
      try {
        await conn.startTls(options.tls());
      } catch {
        session.quit = true;
        return;
      }
      // RFC 3207 §4.2: everything learnt before TLS is forgotten; the client says LHLO again.
      resetTransaction(session);
      session.state = 'greeted';
    },
  },
};

/** HELO and EHLO are SMTP: an LMTP server must refuse them (RFC 2033 §4.1). */
const SMTP_ONLY = new Set(['HELO', 'EHLO']);

/** One connection: the dispatcher loop, and what the listener's drain needs to know of it. */
export class LmtpSession {
  readonly #session: Session;
  #busy = false;

  constructor(conn: LineConnection, options: LmtpOptions) {
    this.#session = { conn, options, state: 'greeted', sender: '', recipients: [], quit: false };
  }

  /** Between transactions: closing now loses nothing. */
  isIdle(): boolean {
    const { state } = this.#session;
    return !this.#busy && (state === 'greeted' || state === 'ready');
  }

  /** Drain (RFC 5321 §3.8: 421 when the service must shut down). */
  goodbye(): void {
    this.#session.quit = true;
    reply(this.#session, '421 4.3.2 Service shutting down, try again later');
    void this.#session.conn.end();
  }

  async run(): Promise<void> {
    const session = this.#session;
    const { conn, options } = session;
    let errors = 0;
    reply(session, `220 ${options.hostname} LMTP ready`);
    while (!session.quit) {
      const read = await conn.readLine(LMTP_LIMITS.commandLineBytes);
      if (read.kind === 'closed') {
        if (conn.timedOut) reply(session, '421 4.4.2 Idle too long, closing');
        break;
      }
      this.#busy = true;
      // Replies to pipelined commands go out together; the connection flushes before it waits.
      if (conn.hasBufferedInput) conn.holdReplies();
      let refused: string | undefined;
      try {
        refused = await dispatch(session, read);
      } catch (error) {
        options.logger.error({ err: (error as Error).message }, 'lmtp command failed');
        refused = '451 4.3.0 Internal error';
        resetTransaction(session);
      }
      this.#busy = false;
      if (refused) {
        reply(session, refused);
        if (++errors >= LMTP_LIMITS.errorsBeforeDisconnect) {
          reply(session, '421 4.7.0 Too many errors, closing');
          break;
        }
      }
    }
    await conn.end();
  }
}

/** Runs a session to its end (tests; the program keeps the LmtpSession for draining). */
export function runLmtpSession(conn: LineConnection, options: LmtpOptions): Promise<void> {
  return new LmtpSession(conn, options).run();
}

/** Runs one command; returns the refusal when the dispatcher itself refuses it. */
async function dispatch(
  session: Session,
  read: Exclude<Awaited<ReturnType<LineConnection['readLine']>>, { kind: 'closed' }>,
) {
  if (read.kind === 'too-long') return '500 5.5.2 Line too long';
  const command = parseCommandLine(read.line);
  if (!command) return '500 5.5.2 Syntax error (a command line ends with CRLF and holds no bare CR or LF)';
  if (SMTP_ONLY.has(command.verb)) return '500 5.5.1 This is LMTP: say LHLO';
  const entry = COMMANDS[command.verb];
  if (!entry) return '500 5.5.1 Command not recognised';
  if (!entry.states.includes(session.state)) {
    const need =
      session.state === 'greeted'
        ? 'LHLO first'
        : session.state === 'ready'
          ? 'MAIL first'
          : 'not in a transaction';
    return `503 5.5.1 Bad sequence of commands: ${need}`;
  }
  if (entry.argument === 'none' && command.argument !== '') return '501 5.5.4 No argument allowed';
  if (entry.argument === 'required' && command.argument === '') return '501 5.5.4 Argument required';
  await entry.handle(session, command.argument);
  return undefined;
}
