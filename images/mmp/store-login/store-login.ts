// Logging in at a user's store on the user's behalf, as pure state machines (one per protocol): the
// store's bytes in, what to send and how it ended out. SASL PLAIN with authzid = the user, authcid =
// the MMP's identity and the operator's shared secret (images/lib/auth/proofs.ts): our store and
// Dovecot's master-user login both accept it. Before that, IMAP's ID passes the client's address
// (x-originating-ip, RFC 2971 and Dovecot's login_trusted_networks), so the store's logs and limits
// see the real client.
import { encodePlain } from '../sasl-plain.ts';
import { HANDBACK_CAPABILITY, HANDBACK_ID_FIELD } from '../../lib/contract/handback.ts';
import { handbackNonces } from './handback-nonces.ts';
import { StoreLineBuffer } from './line-buffer.ts';

export interface StoreLoginRequest {
  /** The identity from the directory entry (authzid). */
  user: string;
  /** The MMP's identity (authcid). */
  proxyUser: string;
  secret: string;
  client: { address: string; port: number };
  sessionId: string;
  /** Ask a store that offers it to hand the connection back after LOGOUT (handback-nonces.ts). */
  handbackId?: number;
}

export type StoreLoginStep =
  | { kind: 'send'; data: string }
  /** Start TLS on the connection now, then call tlsStarted() (SMTP's STARTTLS to the outbound MTA). */
  | { kind: 'start-tls' }
  /**
   * Logged in: pass `toClient` to the client (the store's own answer, under the client's tag), then
   * splice. `ehlo`: an SMTP relay's last EHLO reply lines, what the client's session there offers.
   */
  | {
      kind: 'logged-in';
      toClient: string;
      rest: Buffer;
      ehlo?: readonly string[];
      /** The store was asked to hand the connection back (the request's id), else 0. */
      handbackId?: number;
    }
  /** The store said no to the MMP: a wrong secret, or no such mailbox there. */
  | { kind: 'refused'; text: string }
  /** The store is not usable (BYE, PREAUTH, a protocol error). */
  | { kind: 'broken'; text: string };

export interface StoreLogin {
  receive(chunk: Buffer): StoreLoginStep[];
  /** After a start-tls step, once the handshake is done. */
  tlsStarted?(): StoreLoginStep[];
}

const quoted = (value: string) => `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
/** IMAP quoted strings may not hold CR, LF or NUL (RFC 9051 section 4.3). */
const quotable = (value: string) => !/[\r\n\0]/.test(value);

/** The greeting's capability list names SASL-IR (as a whole atom). */
const SASL_IR_IN_GREETING = /\[CAPABILITY (?:[^\]]* )?SASL-IR[\] ]/i;
const HANDBACK_IN_GREETING = new RegExp(`\\[CAPABILITY (?:[^\\]]* )?${HANDBACK_CAPABILITY}[\\] ]`, 'i');

/** IMAP: greeting → ID (client address) → AUTHENTICATE PLAIN → the client's tagged OK. */
export class ImapStoreLogin implements StoreLogin {
  readonly #lines: StoreLineBuffer;
  readonly #request: StoreLoginRequest;
  readonly #clientTag: string;
  #phase: 'greeting' | 'continuation' | 'answer' | 'done' = 'greeting';
  /** Untagged lines the store sent with its login answer (a CAPABILITY), for the client. */
  #untagged: string[] = [];
  #handbackId = 0;

  constructor(request: StoreLoginRequest, clientTag: string, maxLineBytes: number) {
    this.#request = request;
    this.#clientTag = clientTag;
    this.#lines = new StoreLineBuffer(maxLineBytes);
  }

  receive(chunk: Buffer): StoreLoginStep[] {
    this.#lines.push(chunk);
    const steps: StoreLoginStep[] = [];
    for (;;) {
      if (this.#phase === 'done') return steps;
      let line: string | undefined;
      try {
        line = this.#lines.nextLine();
      } catch (error) {
        this.#phase = 'done';
        return [...steps, { kind: 'broken', text: (error as Error).message }];
      }
      if (line === undefined) return steps;
      const step = this.#line(line);
      if (step) steps.push(step);
    }
  }

  #plain(): string {
    const { user, proxyUser, secret } = this.#request;
    return encodePlain({ authzid: user, authcid: proxyUser, password: secret });
  }

  #line(line: string): StoreLoginStep | undefined {
    switch (this.#phase) {
      case 'greeting': {
        if (!/^\* OK\b/i.test(line)) {
          this.#phase = 'done';
          return { kind: 'broken', text: `store greeting: ${line.slice(0, 200)}` };
        }
        const { client, sessionId, handbackId } = this.#request;
        const fields: string[] = [];
        if (quotable(client.address))
          fields.push(
            `"x-originating-ip" ${quoted(client.address)} "x-originating-port" "${client.port}" "x-session-id" ${quoted(sessionId)}`,
          );
        if (handbackId && HANDBACK_IN_GREETING.test(line)) {
          const { marker, resync } = handbackNonces(handbackId);
          fields.push(`"${HANDBACK_ID_FIELD}" "${marker} ${resync}"`);
          this.#handbackId = handbackId;
        }
        const id = fields.length > 0 ? `M1 ID (${fields.join(' ')})\r\n` : '';
        // RFC 4959: with SASL-IR the credentials ride on the command; without, after "+".
        if (SASL_IR_IN_GREETING.test(line)) {
          this.#phase = 'answer';
          return { kind: 'send', data: `${id}M2 AUTHENTICATE PLAIN ${this.#plain()}\r\n` };
        }
        this.#phase = 'continuation';
        return { kind: 'send', data: `${id}M2 AUTHENTICATE PLAIN\r\n` };
      }
      case 'continuation':
        if (line.startsWith('+')) {
          this.#phase = 'answer';
          return { kind: 'send', data: `${this.#plain()}\r\n` };
        }
        return this.#answer(line);
      case 'answer':
        return this.#answer(line);
      default:
        return undefined;
    }
  }

  #answer(line: string): StoreLoginStep | undefined {
    // The ID's own answer and its untagged * ID are ours, not the client's.
    if (/^M1 /.test(line) || /^\* ID /i.test(line)) return undefined;
    if (line.startsWith('* ')) {
      if (/^\* BYE/i.test(line)) {
        this.#phase = 'done';
        return { kind: 'broken', text: line.slice(0, 200) };
      }
      this.#untagged.push(line);
      return undefined;
    }
    const tagged = /^M2 (OK|NO|BAD)\b ?(.*)$/i.exec(line);
    if (!tagged) return undefined;
    this.#phase = 'done';
    if (tagged[1]!.toUpperCase() !== 'OK') return { kind: 'refused', text: line.slice(3, 200) };
    const toClient = [...this.#untagged, `${this.#clientTag} OK ${tagged[2]}`].join('\r\n') + '\r\n';
    return { kind: 'logged-in', toClient, rest: this.#lines.takeRest(), handbackId: this.#handbackId };
  }
}

/**
 * POP3: greeting → XCLIENT with the client's address when the greeting offers it (Dovecot does, to
 * its login_trusted_networks) → AUTH PLAIN with the initial response (RFC 5034) → +OK.
 */
export class Pop3StoreLogin implements StoreLogin {
  readonly #lines: StoreLineBuffer;
  readonly #request: StoreLoginRequest;
  #phase: 'greeting' | 'xclient' | 'answer' | 'done' = 'greeting';

  constructor(request: StoreLoginRequest, maxLineBytes: number) {
    this.#request = request;
    this.#lines = new StoreLineBuffer(maxLineBytes);
  }

  receive(chunk: Buffer): StoreLoginStep[] {
    this.#lines.push(chunk);
    const steps: StoreLoginStep[] = [];
    while (this.#phase !== 'done') {
      let line: string | undefined;
      try {
        line = this.#lines.nextLine();
      } catch (error) {
        this.#phase = 'done';
        return [...steps, { kind: 'broken', text: (error as Error).message }];
      }
      if (line === undefined) break;
      if (this.#phase === 'greeting') {
        if (!line.startsWith('+OK')) {
          this.#phase = 'done';
          steps.push({ kind: 'broken', text: `store greeting: ${line.slice(0, 200)}` });
          break;
        }
        const { client, sessionId } = this.#request;
        if (/^\+OK \[XCLIENT\]/i.test(line) && /^[0-9a-fA-F:.]+$/.test(client.address)) {
          this.#phase = 'xclient';
          const session = sessionId.replace(/[^A-Za-z0-9+/=_-]/g, '');
          steps.push({
            kind: 'send',
            data: `XCLIENT ADDR=${client.address} PORT=${client.port} SESSION=${session}\r\n`,
          });
        } else {
          this.#phase = 'answer';
          steps.push({ kind: 'send', data: this.#auth() });
        }
      } else if (this.#phase === 'xclient') {
        // Accepted or not, the login goes on: the address is for logs and limits, not for access.
        this.#phase = 'answer';
        steps.push({ kind: 'send', data: this.#auth() });
      } else if (line === '+' || line.startsWith('+ ')) {
        // A store that ignored the initial response asks for it (RFC 5034 section 4).
        steps.push({ kind: 'send', data: `${this.#plain()}\r\n` });
      } else {
        this.#phase = 'done';
        if (line.startsWith('+OK'))
          steps.push({ kind: 'logged-in', toClient: `${line}\r\n`, rest: this.#lines.takeRest() });
        else steps.push({ kind: 'refused', text: line.slice(0, 200) });
      }
    }
    return steps;
  }

  #plain(): string {
    const { user, proxyUser, secret } = this.#request;
    return encodePlain({ authzid: user, authcid: proxyUser, password: secret });
  }

  #auth(): string {
    return `AUTH PLAIN ${this.#plain()}\r\n`;
  }
}
