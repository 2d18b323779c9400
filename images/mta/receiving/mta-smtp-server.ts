// smtp-server with three changes, all in its connection class:
//
// 1. A reply whose text already starts with an enhanced status code (our policy's replies,
//    core/replies.ts) is sent as it is. smtp-server otherwise derives the code from the reply code
//    alone (550 → 5.1.1), which would turn "relay denied" (5.7.1) into "no such user".
//
// 2. The pause before the greeting is ours to set. smtp-server waits a hard-coded 100 ms so that a
//    client talking before the greeting (a spambot pipelining blindly) is caught and refused with
//    421; that costs every connection 100 ms, which caps a client that opens one connection per
//    message at 10 messages a second per session (FIELD-NOTES). The world-facing tiers keep 100 ms;
//    the internal tiers, whose only clients are our own MTAs behind the firewall, use a short window
//    that still refuses input arriving before the greeting.
//
// 3. Session deadlines (core/session-deadlines.ts). smtp-server has only an idle timeout, which a
//    byte now and then resets; each connection here knows which phase it is in, and the server
//    looks at every connection once a tick and closes the overdue ones with 421 4.4.2.
//
// Everything else — the protocol, its guards, STARTTLS — is smtp-server's own.
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { SMTPConnection, type SMTPConnectionOptions } from 'smtp-server/lib/smtp-connection.js';
import { overdue, type Deadline, type DeadlineLimits, type SessionPhase } from '../core/session-deadlines.ts';
import { REPLIES, replyText } from '../core/replies.ts';
import { BUSY_FRACTION, DEADLINE_TICK_MS } from '../limits.ts';

const OWN_STATUS = /^[245]\.\d{1,3}\.\d{1,3} /;

/** The parts of smtp-server's connection state the deadlines read (see smtp-connection.d.ts). */
interface ParserState {
  _dataMode?: boolean;
  dataBytes?: number;
}

export class MtaSmtpConnection extends SMTPConnection {
  /** When the client last got an answer (and began to owe us its next command). */
  #commandSince = Date.now();
  /** When the current DATA began (undefined outside DATA). */
  #dataSince: number | undefined;

  override send(code: number, data?: string | string[] | null, context?: string | false): void {
    if (context === undefined && typeof data === 'string' && OWN_STATUS.test(data)) {
      super.send(code, data, false);
      return;
    }
    super.send(code, data, context);
  }

  // The same as SMTPConnection.init, with the greeting delay taken from the server.
  override init(): void {
    this._setListeners(() => {
      const server = this._server as MtaSmtpServer;
      if (server.options.maxClients && server.connections.size > server.options.maxClients) {
        this.send(421, `${this.name} Too many connected clients, try again in a moment`, false);
        return;
      }
      setTimeout(() => {
        this.#commandSince = Date.now();
        this.connectionReady();
      }, server.greetingDelayMs).unref();
    });
  }

  override _onCommand(command: Buffer, callback?: () => void): void {
    super._onCommand(command, () => {
      this.#commandSince = Date.now();
      callback?.();
    });
  }

  /** Where the session stands, for the deadlines. */
  phase(now: number): SessionPhase {
    const parser = (this._parser || undefined) as ParserState | undefined;
    if (parser?._dataMode) {
      this.#dataSince ??= now;
      return { kind: 'data', since: this.#dataSince, bytes: parser.dataBytes ?? 0 };
    }
    if (this.#dataSince !== undefined) {
      // The message is in; the client waits for our answer, then owes us its next command.
      this.#dataSince = undefined;
      this.#commandSince = now;
    }
    if (this._handlerPending || this._dataStream) return { kind: 'waiting' };
    return { kind: 'command', since: this.#commandSince };
  }
}

export interface MtaSmtpServerOptions extends SMTPServerOptions {
  greetingDelayMs: number;
  deadlines: DeadlineLimits;
  /** Told of each session closed for being too slow (metrics). */
  onDeadline?: (deadline: Deadline, connection: MtaSmtpConnection) => void;
}

const DEADLINE_REPLY: Record<Deadline, typeof REPLIES.commandTimeout> = {
  command: REPLIES.commandTimeout,
  data: REPLIES.dataTimeout,
  'data-rate': REPLIES.dataTooSlow,
};

export class MtaSmtpServer extends SMTPServer {
  readonly greetingDelayMs: number;
  readonly #deadlines: DeadlineLimits;
  readonly #onDeadline: MtaSmtpServerOptions['onDeadline'];
  readonly #tick: NodeJS.Timeout;

  constructor(options: MtaSmtpServerOptions) {
    const { greetingDelayMs, deadlines, onDeadline, ...rest } = options;
    super(rest);
    this.greetingDelayMs = greetingDelayMs;
    this.#deadlines = deadlines;
    this.#onDeadline = onDeadline;
    this.#tick = setInterval(() => this.#enforceDeadlines(), DEADLINE_TICK_MS);
    this.#tick.unref();
  }

  // The same as SMTPServer.connect, with our connection class.
  override connect(
    socket: Socket | TLSSocket,
    socketOptions?: SMTPConnectionOptions | null,
  ): MtaSmtpConnection {
    const connection = new MtaSmtpConnection(this, socket, socketOptions);
    this.connections.add(connection);
    connection.on('error', (error: Error) => this._onError(error));
    connection.on('connect', (data: Parameters<SMTPServer['_onClientConnect']>[0]) =>
      this._onClientConnect(data),
    );
    connection.init();
    return connection;
  }

  override close(callback?: () => void): void {
    clearInterval(this.#tick);
    super.close(callback);
  }

  #enforceDeadlines(): void {
    const now = Date.now();
    const max = this.options.maxClients ?? Infinity;
    const busy = this.connections.size >= max * BUSY_FRACTION;
    for (const c of this.connections) {
      if (!(c instanceof MtaSmtpConnection)) continue;
      const late = overdue(c.phase(now), now, busy, this.#deadlines);
      if (!late) continue;
      this.#onDeadline?.(late, c);
      c.send(421, replyText(DEADLINE_REPLY[late]));
    }
  }
}
