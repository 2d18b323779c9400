// A store with its IMAP listener on a free loopback port over a temp dir, the real engine behind
// it, and a transcript client: send "T1 LOGIN …", get every line up to "T1 OK …".
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, createSecureContext, type SecureContext } from 'node:tls';
import type { MessageStore } from '../../mailbox/api.ts';
import { runLmtpSession } from '../../lmtp/lmtp-session.ts';
import { silentLogger, startStoreFixture } from '../../testing/store-fixture.ts';
import { makeSelfSignedCertificate } from '../../../../testing/peers/tls-fixture.ts';
import { ImapServer } from '../imap-server.ts';
import type { SessionLog } from '../session.ts';
import { checkStoreLogin } from '../../../lib/auth/proofs.ts';

export const PROXY_IDENTITY = 'mmp';
export const PROXY_SECRET = 'shared-secret-for-tests';

export interface ImapFixture {
  store: MessageStore;
  server: ImapServer;
  port: number;
  dataDir: string;
  /** An LMTP listener on the same engine (the store's own LMTP session), for delivery tests. */
  lmtpPort(): Promise<number>;
  stop(): Promise<void>;
}

/** The store's engine on a temp dir (the shared store fixture) with the IMAP listener in front. */
export async function startImapFixture(
  options: {
    maxMessageBytes?: number;
    quotaBytes?: number;
    tls?: 'starttls' | 'implicit';
    /** The sessions' log lines (none by default). */
    log?: SessionLog;
  } = {},
): Promise<ImapFixture> {
  const maxMessageBytes = options.maxMessageBytes ?? 10 * 1024 * 1024;
  const base = await startStoreFixture('imap', {
    quota: { storageBytes: options.quotaBytes, messages: undefined },
    maxMessageBytes,
  });
  let secureContext: (() => SecureContext) | undefined;
  if (options.tls) {
    const files = await makeSelfSignedCertificate(base.dataDir.replace(/\/data$/, ''));
    const context = createSecureContext({
      cert: readFileSync(files.certFile),
      key: readFileSync(files.keyFile),
    });
    secureContext = () => context;
  }
  const server = new ImapServer({
    ...(secureContext ? { secureContext } : {}),
    store: base.store,
    login: (credentials) => checkStoreLogin(credentials, { proxyUser: PROXY_IDENTITY, secret: PROXY_SECRET }),
    hostname: 'store-0.test',
    maxMessageBytes,
    tls: options.tls ?? 'none',
    maxConnections: 1000,
    ...(options.log ? { log: options.log } : {}),
  });
  const port = await server.listen(0);
  return {
    store: base.store,
    server,
    port,
    dataDir: base.dataDir,
    lmtpPort: () =>
      base.serve((conn) =>
        runLmtpSession(conn, {
          store: base.store,
          hostname: 'store-0.test',
          domains: new Set(['example.test']),
          maxMessageBytes,
          tls: undefined,
          logger: silentLogger,
        }),
      ),
    async stop() {
      await server.close();
      await base.close();
    },
  };
}

/** curl's arguments for logging in as the MMP for a user (SASL PLAIN with an authzid). */
export function curlLogin(user: string, secret = PROXY_SECRET): string[] {
  return ['--login-options', 'AUTH=PLAIN', '--sasl-authzid', user, '-u', `${PROXY_IDENTITY}:${secret}`];
}

/** The PLAIN response of the MMP logging in for a user. */
export function plainLogin(user: string, secret = PROXY_SECRET): string {
  return Buffer.from(`${user}\0${PROXY_IDENTITY}\0${secret}`).toString('base64');
}

/** A raw IMAP client for transcripts: lines out, lines (and literals) in. */
export class TranscriptClient {
  private readonly socket: Socket;
  private buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('error', () => {});
  }

  /** Plain, or implicit TLS (imaps) trusting the CA in `tls.caFile`. */
  static async connect(port: number, tls?: { caFile: string }): Promise<TranscriptClient> {
    const socket = tls
      ? tlsConnect({ port, host: '127.0.0.1', ca: readFileSync(tls.caFile) })
      : connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once(tls ? 'secureConnect' : 'connect', resolve);
      socket.once('error', reject);
    });
    const client = new TranscriptClient(socket);
    await client.readLine(); // greeting
    return client;
  }

  /** Logs in as the MMP for a user. */
  static async login(port: number, user = 'alice@example.test'): Promise<TranscriptClient> {
    const client = await TranscriptClient.connect(port);
    const reply = await client.command(`L1 AUTHENTICATE PLAIN ${plainLogin(user)}`);
    if (!reply.at(-1)!.startsWith('L1 OK')) throw new Error(`login failed: ${reply.join('\n')}`);
    return client;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Writes and waits until the server has read it (so the client holds no backlog itself). */
  async writeAndDrain(data: Buffer): Promise<void> {
    if (!this.socket.write(data)) await new Promise((resolve) => this.socket.once('drain', resolve));
  }

  private async wait(): Promise<void> {
    if (this.closed) throw new Error('connection closed');
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** One response line, literals included inline (as their bytes, latin1). */
  async readLine(timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let line = '';
    for (;;) {
      const lf = this.buffer.indexOf(0x0a);
      if (lf >= 0) {
        const piece = this.buffer.subarray(0, lf + 1).toString('latin1');
        this.buffer = this.buffer.subarray(lf + 1);
        const literal = /\{(\d+)\}\r\n$/.exec(piece);
        line += piece;
        if (!literal) return line.replace(/\r\n$/, '');
        const size = Number(literal[1]);
        while (this.buffer.length < size) {
          if (Date.now() > deadline) throw new Error(`timeout in literal after: ${line}`);
          await this.waitWithTimeout(deadline, line);
        }
        line += this.buffer.subarray(0, size).toString('latin1');
        this.buffer = this.buffer.subarray(size);
        continue;
      }
      if (this.closed) throw new Error(`connection closed after: ${line}${this.buffer.toString('latin1')}`);
      await this.waitWithTimeout(deadline, line);
    }
  }

  private async waitWithTimeout(deadline: number, context: string): Promise<void> {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timeout waiting for a response after: ${context}`);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.wait(),
      new Promise<void>(
        (_, reject) =>
          (timer = setTimeout(() => reject(new Error(`timeout waiting after: ${context}`)), left)),
      ),
    ]).finally(() => clearTimeout(timer));
  }

  /** Sends a command line and returns every line up to and including its tagged response. */
  async command(line: string, timeoutMs = 10_000): Promise<string[]> {
    const tag = line.split(' ')[0]!;
    this.write(`${line}\r\n`);
    return this.until(tag, timeoutMs);
  }

  async until(tag: string, timeoutMs = 10_000): Promise<string[]> {
    const lines: string[] = [];
    for (;;) {
      const got = await this.readLine(timeoutMs);
      lines.push(got);
      if (got.startsWith(`${tag} `)) return lines;
    }
  }

  /** Every byte the server sends from here until it closes the connection, unparsed. */
  async restUntilClosed(timeoutMs = 10_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) await this.waitWithTimeout(deadline, 'the server closing the connection');
    return this.buffer;
  }

  close(): void {
    this.socket.destroy();
  }
}
