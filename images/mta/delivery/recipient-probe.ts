// Recipient verification by call-ahead, for the internet-facing tier. The DMZ holds no directory,
// so without this it would accept mail for any address in a hosted domain, and learn only later,
// from the inbound tier, that the user does not exist — when the bounce to an internet sender can no
// longer leave the DMZ (it may reach only the inbound tier). So at RCPT the edge asks the inbound
// tier the same question over SMTP (MAIL FROM:<>, RCPT TO, RSET; like Postfix's
// reject_unverified_recipient) and passes a refusal on to the sender, who still holds the message.
//
// A probe that gets no answer (the inbound tier is down) does not refuse: the edge queues the mail,
// which is what a queueing DMZ relay is for. Answers are cached for a short time.
// The probe speaks TLS as the hand-off itself does (relayTo.tls): STARTTLS when the inbound tier
// offers it ('opportunistic'), and no probe at all without it ('required', 'verify'), so a
// recipient question never crosses the DMZ's inner wall in clear when the mail would not.
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { SmtpReplyReader } from '../../lib/smtp/reply-reader.ts';
import { TtlCache } from '../../lib/ttl-cache.ts';
import type { TlsMode } from '../core/routing.ts';

export interface ProbeReply {
  code: number;
  /** The reply text after the code: enhanced status code and message. */
  text: string;
}

export type Verification =
  { kind: 'accepted' } | { kind: 'refused'; reply: ProbeReply } | { kind: 'unknown'; reason: string };

/** One SMTP connection that asks RCPT questions and sends nothing. */
class ProbeConnection {
  #socket: Socket | TLSSocket;
  #reader = new SmtpReplyReader();
  #waiting: ((reply: ProbeReply | Error) => void)[] = [];
  #replies: (ProbeReply | Error)[] = [];
  #broken = false;
  #secure = false;

  private constructor(socket: Socket) {
    this.#socket = socket;
    this.#attach(socket);
  }

  #attach(socket: Socket | TLSSocket): void {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      try {
        for (const reply of this.#reader.push(chunk)) this.#deliver({ code: reply.code, text: reply.text });
      } catch (error) {
        this.#fail(error as Error);
        socket.destroy();
      }
    });
    socket.on('error', (error: Error) => this.#fail(error));
    socket.on('close', () => this.#fail(new Error('connection closed')));
  }

  static async open(options: {
    host: string;
    port: number;
    name: string;
    timeoutMs: number;
    tls: TlsMode;
  }): Promise<ProbeConnection> {
    const socket = connect({ host: options.host, port: options.port });
    socket.setTimeout(options.timeoutMs, () =>
      socket.destroy(new Error(`no answer within ${options.timeoutMs} ms`)),
    );
    const probe = new ProbeConnection(socket);
    const greeting = await probe.#next();
    if (greeting.code !== 220) throw new Error(`greeting ${greeting.code} ${greeting.text}`);
    let ehlo = await probe.#command(`EHLO ${options.name}`);
    if (ehlo.code !== 250) throw new Error(`EHLO refused: ${ehlo.code} ${ehlo.text}`);
    if (options.tls !== 'none') {
      const offered = /(^| )STARTTLS( |$)/i.test(ehlo.text);
      if (!offered && options.tls !== 'opportunistic')
        throw new Error(`the next hop offers no STARTTLS and the hand-off requires TLS (${options.tls})`);
      if (offered) {
        await probe.#startTls(options.host, options.tls === 'verify', options.timeoutMs);
        ehlo = await probe.#command(`EHLO ${options.name}`);
        if (ehlo.code !== 250) throw new Error(`EHLO after STARTTLS refused: ${ehlo.code} ${ehlo.text}`);
      }
    }
    return probe;
  }

  get usable(): boolean {
    return !this.#broken;
  }

  get secure(): boolean {
    return this.#secure;
  }

  async ask(address: string): Promise<ProbeReply> {
    // Three round trips; the inbound tier pipelines, but a probe should not depend on it.
    const mail = await this.#command('MAIL FROM:<>');
    if (mail.code !== 250) return mail;
    const rcpt = await this.#command(`RCPT TO:<${address}>`);
    const reset = await this.#command('RSET');
    if (reset.code !== 250) this.#broken = true;
    return rcpt;
  }

  close(): void {
    this.#broken = true;
    if (!this.#socket.destroyed) this.#socket.end('QUIT\r\n');
  }

  async #startTls(servername: string, verify: boolean, timeoutMs: number): Promise<void> {
    const reply = await this.#command('STARTTLS');
    if (reply.code !== 220) throw new Error(`STARTTLS refused: ${reply.code} ${reply.text}`);
    const plain = this.#socket as Socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    const secure = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect(
        {
          socket: plain,
          servername: /^[\d.:]+$/.test(servername) ? undefined : servername,
          rejectUnauthorized: verify,
        },
        () => resolve(s),
      );
      s.once('error', reject);
    });
    secure.setTimeout(timeoutMs, () => secure.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    // RFC 3207 section 4.2: everything known before the handshake is forgotten.
    this.#reader = new SmtpReplyReader();
    this.#socket = secure;
    this.#secure = true;
    this.#attach(secure);
  }

  #command(line: string): Promise<ProbeReply> {
    if (this.#broken) return Promise.reject(new Error('connection is broken'));
    this.#socket.write(`${line}\r\n`);
    return this.#next();
  }

  #next(): Promise<ProbeReply> {
    const ready = this.#replies.shift();
    if (ready) return ready instanceof Error ? Promise.reject(ready) : Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      this.#waiting.push((r) => (r instanceof Error ? reject(r) : resolve(r)));
    });
  }

  #deliver(reply: ProbeReply | Error): void {
    const waiter = this.#waiting.shift();
    if (waiter) waiter(reply);
    else this.#replies.push(reply);
  }

  #fail(error: Error): void {
    if (this.#broken && this.#waiting.length === 0) return;
    this.#broken = true;
    for (const waiter of this.#waiting.splice(0)) waiter(error);
    this.#replies.push(error);
  }
}

export interface RecipientVerifierOptions {
  host: string;
  port: number;
  /** Our name in EHLO. */
  name: string;
  /** As the hand-off to this host (relayTo.tls). */
  tls: TlsMode;
  cacheTtlMs: number;
  timeoutMs?: number;
  /** Probe connections kept open between questions. */
  idleConnections?: number;
}

export class RecipientVerifier {
  readonly #o: RecipientVerifierOptions;
  readonly #cache: TtlCache<string, Verification>;
  readonly #idle: ProbeConnection[] = [];
  readonly #inFlight = new Map<string, Promise<Verification>>();

  constructor(options: RecipientVerifierOptions) {
    this.#o = options;
    this.#cache = new TtlCache({ ttlMs: options.cacheTtlMs });
  }

  verify(address: string): Promise<Verification> {
    const key = address.toLowerCase();
    const cached = this.#cache.get(key);
    if (cached) return Promise.resolve(cached);
    // Concurrent RCPTs for one address (a burst to a list) share one probe.
    let pending = this.#inFlight.get(key);
    if (!pending) {
      pending = this.#probe(address).finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, pending);
    }
    return pending;
  }

  close(): void {
    for (const c of this.#idle.splice(0)) c.close();
  }

  async #probe(address: string): Promise<Verification> {
    let connection: ProbeConnection | undefined;
    try {
      connection = this.#idle.pop();
      while (connection && !connection.usable) connection = this.#idle.pop();
      connection ??= await ProbeConnection.open({
        host: this.#o.host,
        port: this.#o.port,
        name: this.#o.name,
        timeoutMs: this.#o.timeoutMs ?? 10_000,
        tls: this.#o.tls,
      });
      const reply = await connection.ask(address);
      if (connection.usable && this.#idle.length < (this.#o.idleConnections ?? 4))
        this.#idle.push(connection);
      else connection.close();
      connection = undefined;
      const verdict: Verification =
        reply.code >= 200 && reply.code < 300
          ? { kind: 'accepted' }
          : reply.code >= 500
            ? { kind: 'refused', reply }
            : { kind: 'unknown', reason: `${reply.code} ${reply.text}` };
      if (verdict.kind !== 'unknown') this.#cache.set(address.toLowerCase(), verdict);
      return verdict;
    } catch (error) {
      connection?.close();
      return { kind: 'unknown', reason: (error as Error).message };
    }
  }
}
