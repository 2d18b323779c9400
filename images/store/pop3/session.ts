// One POP3 connection (RFC 1939, RFC 2449, RFC 5034): its state, its maildrop once logged in, and
// the loop that hands each command line to the dispatcher in order (PIPELINING, RFC 2449 §6.6:
// replies to commands the client sent together go out together).
//
// Only the MMP logs in: SASL PLAIN (or USER "user*proxy" / PASS) with authzid = the user, authcid =
// the proxy identity, password = the shared secret; `options.login` checks it in constant time.
import type { SecureContext } from 'node:tls';
import type { Logger } from '../../lib/log.ts';
import type { Account, MailboxView, MessageStore } from '../mailbox/api.ts';
import { POP3_LIMITS } from '../limits.ts';
import { ConnectionClosedError, type LineConnection } from '../protocol/line-connection.ts';
import { splitMasterUser, type PlainCredentials } from '../protocol/sasl-plain.ts';
import { err, ok, type Pop3Reply, type Pop3State } from './command.ts';
import { dispatch, writeReply } from './dispatcher.ts';
import { Maildrop } from './maildrop.ts';

export type LoginResult = { ok: true; user: string } | { ok: false; reason: string };

export interface Pop3Options {
  readonly store: MessageStore;
  readonly hostname: string;
  /** The store-login proof (images/lib/auth/proofs.ts checkStoreLogin, bound to the proxy's secret). */
  readonly login: (credentials: PlainCredentials) => LoginResult;
  readonly tls: (() => SecureContext) | undefined;
  readonly logger: Logger;
  /** POP3 sessions per user in this process, shared by all sessions: a maildrop has one POP3 user. */
  readonly popSessions: Map<string, number>;
  readonly onCommand?: (command: string, ok: boolean) => void;
}

export class Pop3Session {
  readonly options: Pop3Options;
  readonly conn: LineConnection;
  state: Pop3State = 'authorization';
  pendingUser: string | undefined;
  /** The client's address as the MMP named it (XCLIENT), believed once the proxy has logged in. */
  claimedClientAddress: string | undefined;
  /** The client's address for logs: the socket's, or the MMP's word for it after its login. */
  clientAddress: string;
  closing = false;
  #maildrop: Maildrop | undefined;
  #view: MailboxView | undefined;
  #account: Account | undefined;
  #user: string | undefined;
  #busy = false;
  #authFailures = 0;
  #errors = 0;

  constructor(conn: LineConnection, options: Pop3Options) {
    this.conn = conn;
    this.options = options;
    this.clientAddress = conn.remoteAddress;
  }

  get maildrop(): Maildrop {
    // The dispatcher asks for it to resolve message numbers, in any state; before login it is empty.
    return this.#maildrop ?? EMPTY_MAILDROP;
  }

  get view(): MailboxView {
    if (!this.#view) throw new Error('no maildrop before login');
    return this.#view;
  }

  get canStartTls(): boolean {
    return this.options.tls !== undefined && !this.conn.secure;
  }

  /** For the listener's drain: between commands, closing loses nothing (no UPDATE is entered). */
  isIdle(): boolean {
    return !this.#busy;
  }

  /** Drain: RFC 1939 says a session that ends without QUIT deletes nothing, so this is safe. */
  goodbye(): void {
    this.conn.write('-ERR [SYS/TEMP] Server shutting down, try again\r\n');
    this.closing = true;
    void this.conn.end();
  }

  send(text: string): void {
    this.conn.write(text);
  }

  sendWithBackpressure(data: Buffer): Promise<void> {
    return this.conn.writeWithBackpressure(data);
  }

  /** The client's line after a "+ " continuation (AUTH). */
  async readContinuation(): Promise<string | undefined> {
    const read = await this.conn.readLine(POP3_LIMITS.saslResponseBytes);
    return read.kind === 'line' ? read.line.toString('latin1') : undefined;
  }

  async startTls(): Promise<void> {
    this.send('+OK Begin TLS negotiation\r\n');
    await this.conn.startTls(this.options.tls!());
    // RFC 2595 §4: what was said before TLS (USER) no longer counts.
    this.pendingUser = undefined;
  }

  async logIn(given: PlainCredentials): Promise<Pop3Reply> {
    // A client that can only fill in one name (curl's AUTH PLAIN) says "user*proxy" there too.
    const credentials = given.authzid === '' ? { ...given, ...splitMasterUser(given.authcid) } : given;
    const proof = this.options.login(credentials);
    if (!proof.ok) {
      this.#authFailures++;
      this.options.logger.warn(
        { authcid: credentials.authcid, client: this.clientAddress, reason: proof.reason },
        'POP3 login refused',
      );
      if (this.#authFailures >= POP3_LIMITS.authFailuresBeforeDisconnect) this.closing = true;
      return err('Authentication failed', 'AUTH');
    }
    // The proxy is proven: the address it named before logging in is the client's.
    if (this.claimedClientAddress !== undefined) this.clientAddress = this.claimedClientAddress;
    this.claimedClientAddress = undefined;
    const user = proof.user.trim().toLowerCase();
    if ((this.options.popSessions.get(user) ?? 0) > 0)
      return err('Another POP3 session holds this maildrop', 'IN-USE');
    this.options.popSessions.set(user, 1);
    this.#user = user;
    try {
      this.#account = await this.options.store.openAccount(user);
      this.#view = await this.#account.openMailbox('INBOX', { readOnly: false });
    } catch (error) {
      this.#release();
      throw error;
    }
    this.#maildrop = new Maildrop(this.#view.snapshot.messages, this.#view.snapshot.uidValidity);
    this.state = 'transaction';
    this.options.logger.info({ user, client: this.clientAddress }, 'POP3 login');
    const { count, octets } = this.#maildrop.stat();
    return ok(`Logged in, ${count} messages (${octets} octets)`);
  }

  /** RFC 1939 §6 UPDATE: deletions become one expunge; retrieved messages become \Seen. */
  async update(): Promise<Pop3Reply> {
    this.closing = true;
    const { expunge, seen } = this.maildrop.changes();
    try {
      if (seen.length > 0) await this.view.storeFlags({ uids: seen, mode: 'add', flags: ['\\Seen'] });
      if (expunge.length > 0) await this.view.expunge({ uids: expunge, onlyDeleted: false });
    } catch (error) {
      this.options.logger.error({ user: this.#user, err: (error as Error).message }, 'POP3 update failed');
      return err('Some deleted messages were not removed', 'SYS/TEMP');
    }
    return ok(`${this.options.hostname} signing off (${this.maildrop.stat().count} messages left)`);
  }

  #release(): void {
    this.#view?.close();
    this.#account?.close();
    this.#view = undefined;
    this.#account = undefined;
    if (this.#user !== undefined) this.options.popSessions.delete(this.#user);
    this.#user = undefined;
  }

  async run(): Promise<void> {
    try {
      // [XCLIENT]: the MMP may name the client (commands/xclient.ts), as Dovecot offers it.
      this.send(`+OK [XCLIENT] ${this.options.hostname} POP3 ready\r\n`);
      while (!this.closing) {
        const read = await this.conn.readLine(POP3_LIMITS.commandLineBytes);
        if (read.kind === 'closed') break;
        if (this.conn.hasBufferedInput) this.conn.holdReplies();
        this.#busy = true;
        let reply: Pop3Reply;
        let verb = '';
        if (read.kind === 'too-long') reply = err('Line too long');
        else {
          const text = read.line.toString('utf8');
          // A bare CR or LF, or NUL, inside a line is not POP3 (RFC 1939 §3: lines end with CRLF).
          const match = /^([A-Za-z]{1,8})(?: (.*))?$/s.exec(text);
          if (!match || /[\r\n\0]/.test(text)) reply = err('Syntax error');
          else {
            verb = match[1]!.toUpperCase();
            reply = await dispatch(this, verb, match[2] ?? '');
          }
        }
        this.options.onCommand?.(verb || 'invalid', reply.ok);
        await writeReply(this, reply);
        this.#busy = false;
        if (!reply.ok && ++this.#errors >= POP3_LIMITS.errorsBeforeDisconnect) {
          this.send('-ERR Too many errors, closing\r\n');
          break;
        }
      }
    } catch (error) {
      if (!(error instanceof ConnectionClosedError)) throw error;
    } finally {
      this.#release();
      await this.conn.end();
    }
  }
}

const EMPTY_MAILDROP = new Maildrop([], 0);
