// onMailFrom: draining, room in the queue, the client's message rate, then the sender rules. The
// parsed sender is kept in the session for DATA.
import type { SMTPServerAddress, SMTPServerSession } from 'smtp-server';
import { senderVerdict } from '../../core/policy.ts';
import { REPLIES } from '../../core/replies.ts';
import type { SessionContext } from '../session-context.ts';

export function mailFromHook(context: SessionContext) {
  const { deps, listener } = context;
  return function onMailFrom(
    address: SMTPServerAddress,
    session: SMTPServerSession,
    callback: (error?: Error | null) => void,
  ): void {
    const state = context.state(session);
    // MAIL starts a transaction (RFC 5321 section 4.1.1.2): what the last one had is gone.
    state.sender = undefined;
    state.recipients.clear();
    if (deps.isDraining()) return callback(context.refuse('mail', REPLIES.shuttingDown, session));
    const verdict = senderVerdict({
      role: deps.role,
      channel: listener.channel,
      sender: address.address,
      smtpUtf8: session.envelope.smtpUtf8 ?? false,
      user: context.user(session),
    });
    if (!verdict.ok)
      return callback(context.refuse('mail', verdict.reply, session, { sender: address.address }));
    if (deps.rateLimiter && !deps.rateLimiter.take(state.client))
      return callback(context.refuse('mail', REPLIES.rateLimited, session));
    deps.freeSpace.enough().then((enough) => {
      if (!enough) return callback(context.refuse('mail', REPLIES.insufficientStorage, session));
      state.sender = verdict.value;
      context.accepted('mail');
      callback();
    }, callback);
  };
}
