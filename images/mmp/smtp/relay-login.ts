// The MMP's own login at the outbound MTA for one client session, as a pure state machine (the
// MTA's bytes in, what to send and how it ended out), by the XCLIENT proof (images/lib/auth/
// proofs.ts, Postfix's XCLIENT_README):
//
//   220 → EHLO → STARTTLS → (TLS) → EHLO → AUTH PLAIN as the proxy identity with the shared secret
//   → EHLO (XCLIENT now offered) → XCLIENT ADDR PORT LOGIN → 220 → EHLO <the client's name> → 250
//
// after which the MTA's session belongs to the client, with the client's address, the user the MMP
// checked, and the MTA's own limits and policy (the user's own sender addresses, recipient limits).
// The proxy proves itself only over TLS: an MTA that offers no STARTTLS is not used.
import { XCLIENT_PROXY_IDENTITY } from '../../lib/auth/proofs.ts';
import { SmtpReplyReader, type SmtpReply } from '../../lib/smtp/reply-reader.ts';
import { encodePlain } from '../sasl-plain.ts';
import type { StoreLogin, StoreLoginStep } from '../store-login/store-login.ts';

export interface RelayLoginRequest {
  /** Our name, for our own EHLOs. */
  hostname: string;
  /** The user the session acts for: XCLIENT LOGIN, which the MTA looks up in the directory. */
  user: string;
  secret: string;
  client: { address: string; port: number };
  /** The name the client gave in its EHLO, given to the MTA in ours after XCLIENT. */
  helo: string;
}

type Phase =
  | 'greeting'
  | 'ehlo'
  | 'starttls'
  | 'starttls-pending'
  | 'tls-ehlo'
  | 'auth'
  | 'auth-ehlo'
  | 'xclient'
  | 'client-ehlo'
  | 'done';

/** RFC 3461 section 4 xtext, which XCLIENT values are in: "+", "=" and what is not printable as +HH. */
export function xtext(value: string): string {
  return Array.from(Buffer.from(value, 'utf8'))
    .map((byte) =>
      byte < 0x21 || byte > 0x7e || byte === 0x2b || byte === 0x3d
        ? `+${byte.toString(16).toUpperCase().padStart(2, '0')}`
        : String.fromCharCode(byte),
    )
    .join('');
}

/** XCLIENT ADDR: IPv6 with its "IPV6:" prefix; an IPv4-mapped IPv6 address as the IPv4 one. */
export function xclientAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  return address.includes(':') ? `IPV6:${address}` : address;
}

const offers = (reply: SmtpReply, keyword: string) =>
  reply.lines.slice(1).some((line) => line.split(' ')[0]!.toUpperCase() === keyword);

export class RelayLogin implements StoreLogin {
  readonly #request: RelayLoginRequest;
  #replies = new SmtpReplyReader();
  #phase: Phase = 'greeting';

  constructor(request: RelayLoginRequest) {
    this.#request = request;
  }

  receive(chunk: Buffer): StoreLoginStep[] {
    let replies: SmtpReply[];
    try {
      replies = this.#replies.push(chunk.toString('latin1'));
    } catch (error) {
      this.#phase = 'done';
      return [{ kind: 'broken', text: (error as Error).message }];
    }
    const steps: StoreLoginStep[] = [];
    for (const reply of replies) {
      if (this.#phase === 'done' || this.#phase === 'starttls-pending') break;
      steps.push(this.#reply(reply));
    }
    return steps;
  }

  tlsStarted(): StoreLoginStep[] {
    // RFC 3207 section 4.2: nothing the MTA sent before the handshake counts.
    this.#replies = new SmtpReplyReader();
    this.#phase = 'tls-ehlo';
    return [this.#ehlo(this.#request.hostname)];
  }

  #ehlo(name: string): StoreLoginStep {
    return { kind: 'send', data: `EHLO ${name}\r\n` };
  }

  #broken(reply: SmtpReply, what: string): StoreLoginStep {
    this.#phase = 'done';
    return { kind: 'broken', text: `${what}: ${reply.code} ${reply.text.slice(0, 200)}` };
  }

  #reply(reply: SmtpReply): StoreLoginStep {
    const { hostname, user, secret, client, helo } = this.#request;
    switch (this.#phase) {
      case 'greeting':
        if (reply.code !== 220) return this.#broken(reply, 'greeting');
        this.#phase = 'ehlo';
        return this.#ehlo(hostname);
      case 'ehlo':
        if (reply.code !== 250) return this.#broken(reply, 'EHLO');
        if (!offers(reply, 'STARTTLS')) {
          this.#phase = 'done';
          return {
            kind: 'refused',
            text: 'the outbound MTA offers no STARTTLS; the proxy proves itself only over TLS',
          };
        }
        this.#phase = 'starttls';
        return { kind: 'send', data: 'STARTTLS\r\n' };
      case 'starttls':
        if (reply.code !== 220) return this.#broken(reply, 'STARTTLS');
        this.#phase = 'starttls-pending';
        return { kind: 'start-tls' };
      case 'tls-ehlo':
        if (reply.code !== 250) return this.#broken(reply, 'EHLO after STARTTLS');
        this.#phase = 'auth';
        return {
          kind: 'send',
          data: `AUTH PLAIN ${encodePlain({ authzid: '', authcid: XCLIENT_PROXY_IDENTITY, password: secret })}\r\n`,
        };
      case 'auth':
        if (reply.code !== 235) {
          this.#phase = 'done';
          return { kind: 'refused', text: `the proxy's AUTH: ${reply.code} ${reply.text.slice(0, 200)}` };
        }
        this.#phase = 'auth-ehlo';
        return this.#ehlo(hostname);
      case 'auth-ehlo':
        if (reply.code !== 250) return this.#broken(reply, 'EHLO after AUTH');
        if (!offers(reply, 'XCLIENT')) {
          this.#phase = 'done';
          return { kind: 'refused', text: 'the outbound MTA offers no XCLIENT to the proxy' };
        }
        this.#phase = 'xclient';
        return {
          kind: 'send',
          data: `XCLIENT ADDR=${xclientAddress(client.address)} PORT=${client.port} LOGIN=${xtext(user)}\r\n`,
        };
      case 'xclient':
        if (reply.code !== 220) {
          this.#phase = 'done';
          return { kind: 'refused', text: `XCLIENT: ${reply.code} ${reply.text.slice(0, 200)}` };
        }
        this.#phase = 'client-ehlo';
        return this.#ehlo(helo);
      case 'client-ehlo':
        if (reply.code !== 250) return this.#broken(reply, "EHLO with the client's name");
        this.#phase = 'done';
        return {
          kind: 'logged-in',
          toClient: '',
          rest: Buffer.from(this.#replies.pending, 'latin1'),
          ehlo: reply.lines,
        };
      default:
        return this.#broken(reply, 'unexpected reply');
    }
  }
}
