// One connection to a next hop — a store over LMTP, the inbound tier, the gateway, a smarthost or an
// MX host over SMTP — through Nodemailer's SMTP connection, a client that is well kept, speaks LMTP,
// pipelines, and converts line endings to CRLF and dot-stuffs as it sends (RFC 5321 section 4.5.2),
// so what we relay cannot end early at a lax next hop.
import type { Readable } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { MtopoError } from '../../lib/errors.ts';
import { addressFamily } from '../../lib/contract/cidr.ts';
import type { TlsMode } from '../core/routing.ts';
import { deferredOutcome, outcomeFromReply, type RecipientOutcome } from './outcome.ts';

export interface NextHop {
  /** The name, for TLS (SNI and, with 'verify', the certificate check). */
  host: string;
  /** Where to connect, when already resolved (an MX host's A or AAAA record); else the host. */
  address?: string;
  port: number;
  lmtp: boolean;
  tls: TlsMode;
  auth?: { user: string; pass: string };
}

export interface ConnectionTimeouts {
  connectMs: number;
  greetingMs: number;
  socketMs: number;
}

export const DEFAULT_TIMEOUTS: ConnectionTimeouts = {
  connectMs: 30_000,
  greetingMs: 30_000,
  socketMs: 300_000,
};

export interface OutgoingEnvelope {
  /** '' for the null sender. */
  from: string;
  to: string[];
  eightBit: boolean;
  size: number;
}

interface NodemailerError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  recipient?: string;
  rejected?: string[];
  rejectedErrors?: NodemailerError[];
  command?: string;
}

/** Transient errors on a reused connection mean the server closed it while idle: resend elsewhere. */
const TRANSIENT = new Set(['ECONNECTION', 'ESOCKET', 'ETIMEDOUT']);

export class NextHopConnection {
  readonly hop: NextHop;
  readonly #connection: SMTPConnection;
  #messages = 0;
  #broken = false;

  private constructor(hop: NextHop, connection: SMTPConnection) {
    this.hop = hop;
    this.#connection = connection;
    connection.on('error', () => {
      this.#broken = true;
    });
    connection.on('end', () => {
      this.#broken = true;
    });
  }

  static async open(
    hop: NextHop,
    options: { name: string; timeouts?: ConnectionTimeouts },
  ): Promise<NextHopConnection> {
    const t = options.timeouts ?? DEFAULT_TIMEOUTS;
    const connection = new SMTPConnection({
      host: hop.address ?? hop.host,
      port: hop.port,
      lmtp: hop.lmtp,
      name: options.name,
      secure: false,
      // none: never STARTTLS; opportunistic: STARTTLS when offered, any certificate (RFC 7435);
      // required: STARTTLS or fail; verify: and the certificate must be valid for the host.
      ignoreTLS: hop.tls === 'none',
      requireTLS: hop.tls === 'required' || hop.tls === 'verify',
      tls: {
        rejectUnauthorized: hop.tls === 'verify',
        servername: addressFamily(hop.host) ? undefined : hop.host,
      },
      connectionTimeout: t.connectMs,
      greetingTimeout: t.greetingMs,
      socketTimeout: t.socketMs,
      // Internal hops live on cluster networks, loopback in tests.
      allowInternalNetworkInterfaces: true,
      logger: false,
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodemailerError) => reject(connectError(hop, error));
      connection.once('error', onError);
      connection.connect((error?: NodemailerError) => {
        connection.off('error', onError);
        if (error) reject(connectError(hop, error));
        else resolve();
      });
    });
    const opened = new NextHopConnection(hop, connection);
    if (hop.auth) {
      await new Promise<void>((resolve, reject) => {
        connection.login({ user: hop.auth!.user, pass: hop.auth!.pass }, (error) => {
          if (error) {
            connection.close();
            reject(
              new MtopoError('EAUTH', `${hop.host}:${hop.port} refused our credentials: ${error.message}`, {
                cause: error,
              }),
            );
          } else resolve();
        });
      });
    }
    return opened;
  }

  get usable(): boolean {
    return !this.#broken && !(this.#connection as unknown as { _destroyed?: boolean })._destroyed;
  }

  get remoteName(): string {
    return this.hop.host;
  }

  /**
   * Sends one message and says what became of each recipient. `retryable` is true when the
   * connection was found dead before any byte of the message went out (a server closing an idle
   * connection): the message may go over a new connection without counting as a failed attempt.
   */
  send(
    envelope: OutgoingEnvelope,
    body: Readable | Buffer,
  ): Promise<{ outcomes: RecipientOutcome[]; retryable: boolean }> {
    const reused = this.#messages > 0;
    this.#messages++;
    const remote = this.hop.host;
    return new Promise((resolve) => {
      this.#connection.send(
        {
          from: envelope.from === '' ? '' : envelope.from,
          to: envelope.to,
          use8BitMime: envelope.eightBit,
          size: envelope.size,
        },
        body,
        (error: NodemailerError | null, info) => {
          if (error) {
            const outcomes = outcomesFromError(envelope.to, error, remote);
            const transient = TRANSIENT.has(error.code ?? '') || error.responseCode === 421;
            if (transient || !(error.code === 'EENVELOPE' || error.code === 'EMESSAGE')) this.#broken = true;
            const unread =
              !Buffer.isBuffer(body) &&
              (body as Readable & { readableDidRead?: boolean }).readableDidRead === false;
            resolve({ outcomes, retryable: reused && transient && (Buffer.isBuffer(body) || unread) });
            return;
          }
          const outcomes: RecipientOutcome[] = [];
          const rejected = new Map(
            (info.rejectedErrors ?? []).map((e: NodemailerError) => [e.recipient ?? '', e]),
          );
          for (const address of envelope.to) {
            const refusal = rejected.get(address);
            if (refusal)
              outcomes.push(
                outcomeFromReply(
                  address,
                  refusal.responseCode ?? 450,
                  refusal.response ?? refusal.message,
                  remote,
                ),
              );
            else if (info.accepted.includes(address))
              outcomes.push(outcomeFromReply(address, 250, info.response, remote));
            else
              outcomes.push(
                deferredOutcome(address, `no reply about this recipient from ${remote}`, '4.4.0', remote),
              );
          }
          resolve({ outcomes, retryable: false });
        },
      );
    });
  }

  /** RSET after a refused transaction, so the connection can carry the next message. */
  reset(): Promise<boolean> {
    if (!this.usable) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.#connection.reset((error) => {
        if (error) this.#broken = true;
        resolve(!error);
      });
    });
  }

  close(): void {
    this.#broken = true;
    try {
      this.#connection.quit();
    } catch {
      this.#connection.close();
    }
  }
}

function outcomesFromError(recipients: string[], error: NodemailerError, remote: string): RecipientOutcome[] {
  const reply = error.response ?? error.message;
  if (
    error.code === 'EENVELOPE' &&
    error.rejectedErrors &&
    error.rejectedErrors.length > 0 &&
    error.command === 'RCPT TO'
  ) {
    // Every recipient was refused at RCPT, each with its own reply.
    const byRecipient = new Map(error.rejectedErrors.map((e) => [e.recipient ?? '', e]));
    return recipients.map((address) => {
      const e = byRecipient.get(address);
      return e
        ? outcomeFromReply(address, e.responseCode ?? 450, e.response ?? e.message, remote)
        : deferredOutcome(address, reply, '4.4.0', remote);
    });
  }
  if (error.responseCode) {
    // MAIL FROM or DATA refused: the same answer for everyone in the transaction.
    return recipients.map((address) => outcomeFromReply(address, error.responseCode!, reply, remote));
  }
  // No reply at all: the connection broke, timed out, or TLS failed.
  return recipients.map((address) =>
    deferredOutcome(address, `${error.code ?? 'error'}: ${error.message}`, '4.4.2', remote),
  );
}

function connectError(hop: NextHop, error: NodemailerError): MtopoError {
  const code = error.code === 'ETLS' ? 'ETLS' : 'ECONNECTION';
  return new MtopoError(code, `cannot open a session with ${hop.host}:${hop.port}: ${error.message}`, {
    cause: error,
  });
}
