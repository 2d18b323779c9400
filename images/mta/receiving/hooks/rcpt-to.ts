// onRcptTo: the recipient decision (receiving/recipient-decision.ts) — unknown user 550 5.1.1,
// directory down 451 4.4.3 — made while the sender still holds the message. Refused recipients
// count against the session and the client (directory harvesting): after
// `recipientErrorsBeforeDelay` each further refusal is answered later and later, and at
// `recipientErrorsPerSession` the session is closed with 421 (Postfix's smtpd_hard_error_limit);
// a client that keeps at it is refused at connect for a while (hooks/connect.ts).
import type { SMTPServerAddress, SMTPServerSession } from 'smtp-server';
import { sleep } from '../../../lib/auth/penalty-box.ts';
import { MAX_RECIPIENT_ERROR_DELAY_MS, RECIPIENT_ERROR_DELAY_MS } from '../../limits.ts';
import { REPLIES, type SmtpReply } from '../../core/replies.ts';
import { decideRecipient } from '../recipient-decision.ts';
import type { SessionContext, SessionState } from '../session-context.ts';

/** The wait before answering the session's n-th refused recipient. */
export function recipientErrorDelayMs(errors: number, freeErrors: number): number {
  const paid = errors - freeErrors;
  if (paid <= 0) return 0;
  return Math.min(MAX_RECIPIENT_ERROR_DELAY_MS, RECIPIENT_ERROR_DELAY_MS * 2 ** Math.min(paid - 1, 20));
}

export function rcptToHook(context: SessionContext) {
  const { deps, listener } = context;

  const refused = async (
    state: SessionState,
    session: SMTPServerSession,
    reply: SmtpReply,
    detail: Record<string, unknown>,
  ) => {
    // Only permanent refusals count: a directory outage (4xx) is not the client's doing.
    if (reply.code < 500) return context.refuse('rcpt', reply, session, detail);
    state.recipientErrors++;
    deps.recipientPenalties.fail(`client:${state.client}`);
    if (state.recipientErrors >= deps.limits.recipientErrorsPerSession) {
      deps.metrics.harvestingClosed.inc({ role: deps.role });
      return context.refuse('rcpt', REPLIES.tooManyRecipientErrors, session, {
        ...detail,
        recipientErrors: state.recipientErrors,
      });
    }
    await sleep(recipientErrorDelayMs(state.recipientErrors, deps.limits.recipientErrorsBeforeDelay));
    return context.refuse('rcpt', reply, session, detail);
  };

  return function onRcptTo(
    address: SMTPServerAddress,
    session: SMTPServerSession,
    callback: (error?: Error | null) => void,
  ): void {
    const state = context.state(session);
    void decideRecipient({
      router: deps.router,
      verifier: deps.verifier,
      channel: listener.channel,
      recipient: address.address,
      smtpUtf8: session.envelope.smtpUtf8 ?? false,
      user: context.user(session),
    }).then(async (decision) => {
      if (decision.kind === 'refuse')
        return callback(
          await refused(state, session, decision.reply, { rcpt: address.address, why: decision.why }),
        );
      if (decision.unverified)
        deps.logger.warn(
          { session: session.id, rcpt: address.address, reason: decision.unverified },
          'recipient not verified',
        );
      state.recipients.set(address.address, decision.address);
      context.accepted('rcpt');
      callback();
    });
  };
}
