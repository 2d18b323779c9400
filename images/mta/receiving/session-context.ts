// What every session hook shares: the MTA's parts (deps), the state of each session, and one way
// to refuse — count the reply, log it, and hand smtp-server an error carrying the code.
import type { Logger } from 'pino';
import type { SMTPServerSession } from 'smtp-server';
import type { PenaltyBox } from '../../lib/auth/penalty-box.ts';
import type { XclientTrust } from '../../lib/auth/proofs.ts';
import type { AddressSet } from '../../lib/contract/cidr.ts';
import type { MtaLimits } from '../../lib/contract/mta.ts';
import type { DirectoryClient } from '../../lib/directory/directory-client.ts';
import type { ClientConnections, ClientRateLimiter } from '../../lib/server/client-limits.ts';
import type { MailAddress } from '../../lib/mail/address.ts';
import type { Channel, Role, SessionUser } from '../core/policy.ts';
import { replyText, type SmtpReply } from '../core/replies.ts';
import type { RecipientRouter } from '../core/routing.ts';
import type { RecipientVerifier } from '../delivery/recipient-probe.ts';
import type { MtaMetrics } from '../metrics.ts';
import type { FreeSpace } from '../spool/free-space.ts';
import type { Spool, SpooledMessage } from '../spool/spool.ts';

export interface ReceivingDeps {
  role: Role;
  hostname: string;
  router: RecipientRouter;
  directory: DirectoryClient | undefined;
  /** Outbound with an MMP proxy: the shared secret and where the proxy may connect from. */
  xclient: XclientTrust | undefined;
  spool: Spool;
  freeSpace: FreeSpace;
  /** Counted by the listener (images/lib/server/listener.ts), this connection included. */
  connections: ClientConnections;
  /**
   * Per-client message rate; only for the world-facing tiers. The inbound and gateway tiers are fed
   * by a handful of our own pods, and a per-client rate there would throttle the whole site.
   */
  rateLimiter: ClientRateLimiter | undefined;
  /** New connections per client, for the same tiers as the message rate. */
  connectionRate: ClientRateLimiter | undefined;
  /** The internet-facing tier: asks the inbound tier whether a recipient exists (call-ahead). */
  verifier: RecipientVerifier | undefined;
  limits: MtaLimits;
  /** Failed logins, by client address and by account. */
  authPenalties: PenaltyBox;
  /** Refused recipients by client address, across sessions (directory harvesting). */
  recipientPenalties: PenaltyBox;
  isDraining: () => boolean;
  /** Called once a message is in the spool and acknowledged. */
  onQueued: (message: SpooledMessage) => void;
  metrics: MtaMetrics;
  logger: Logger;
  now: () => number;
}

/** One listener's part: what it is for and whom it serves. */
export interface ListenerDeps {
  name: string;
  channel: Channel;
  /** Who may connect where the channel is restricted (inbound, gateway, relay). */
  acceptFrom: AddressSet;
  maxConnectionsPerClient: number;
}

export interface SessionState {
  /** The address the connection came from (after PROXY, before any XCLIENT). */
  client: string;
  proxyProven: boolean;
  /** MAIL FROM as parsed and accepted (null: the null sender), for this transaction. */
  sender: MailAddress | null | undefined;
  /** Each RCPT TO accepted in this transaction, by the text smtp-server holds, as parsed. */
  recipients: Map<string, MailAddress>;
  /** Recipients refused with 5xx in this session (harvesting, Postfix's hard error count). */
  recipientErrors: number;
}

export type ReplyError = Error & { responseCode: number };

export function replyError(reply: SmtpReply): ReplyError {
  return Object.assign(new Error(replyText(reply)), { responseCode: reply.code });
}

export class SessionContext {
  readonly deps: ReceivingDeps;
  readonly listener: ListenerDeps;
  readonly #sessions = new Map<string, SessionState>();

  constructor(deps: ReceivingDeps, listener: ListenerDeps) {
    this.deps = deps;
    this.listener = listener;
  }

  get submission(): boolean {
    return this.listener.channel === 'submission';
  }

  open(session: SMTPServerSession): SessionState {
    const state: SessionState = {
      client: session.remoteAddress,
      proxyProven: false,
      sender: undefined,
      recipients: new Map(),
      recipientErrors: 0,
    };
    this.#sessions.set(session.id, state);
    return state;
  }

  state(session: SMTPServerSession): SessionState {
    return this.#sessions.get(session.id) ?? this.open(session);
  }

  close(session: SMTPServerSession): SessionState | undefined {
    const state = this.#sessions.get(session.id);
    this.#sessions.delete(session.id);
    return state;
  }

  user(session: SMTPServerSession): SessionUser | undefined {
    return (session.user as SessionUser | undefined) || undefined;
  }

  /** Counts and logs a refusal; returns the error smtp-server turns into the reply. */
  refuse(
    stage: string,
    reply: SmtpReply,
    session: SMTPServerSession,
    detail?: Record<string, unknown>,
  ): ReplyError {
    const { metrics, logger, role } = this.deps;
    metrics.replies.inc({ role, stage, code: String(reply.code) });
    logger.info(
      {
        session: session.id,
        client: session.remoteAddress,
        listener: this.listener.name,
        tls: !!session.secure,
        stage,
        reply: `${reply.code} ${reply.status}`,
        ...detail,
      },
      'refused',
    );
    return replyError(reply);
  }

  accepted(stage: string, code = 250): void {
    this.deps.metrics.replies.inc({ role: this.deps.role, stage, code: String(code) });
  }
}
