// What RCPT TO answers, as one function: the relay rules (core/policy.ts), then routing with the
// directory's answer (core/routing.ts), then, at the edge, the inbound tier's own answer
// (call-ahead). The session hook and `mta route` both call this, so the explainer says exactly what
// the server does.
import { enhancedStatus } from '../../lib/smtp/reply-reader.ts';
import type { MailAddress } from '../../lib/mail/address.ts';
import { recipientVerdict, type Channel, type SessionUser } from '../core/policy.ts';
import { REPLIES, type SmtpReply } from '../core/replies.ts';
import type { RecipientRouter, Route } from '../core/routing.ts';
import type { RecipientVerifier } from '../delivery/recipient-probe.ts';

export type RecipientDecision =
  | {
      kind: 'accept';
      address: MailAddress;
      route: Route;
      /** Set when the edge could not ask the inbound tier (the mail is queued anyway). */
      unverified?: string;
    }
  | { kind: 'refuse'; reply: SmtpReply; why: string };

export interface RecipientQuestion {
  router: RecipientRouter;
  verifier: RecipientVerifier | undefined;
  channel: Channel;
  recipient: string;
  smtpUtf8: boolean;
  user: SessionUser | undefined;
}

export async function decideRecipient(q: RecipientQuestion): Promise<RecipientDecision> {
  const verdict = recipientVerdict({
    table: q.router.table,
    channel: q.channel,
    recipient: q.recipient,
    smtpUtf8: q.smtpUtf8,
    user: q.user,
  });
  if (!verdict.ok) return { kind: 'refuse', reply: verdict.reply, why: 'refused by the relay rules' };
  let route: Route;
  try {
    route = await q.router.routeOne(verdict.value);
  } catch (error) {
    return { kind: 'refuse', reply: REPLIES.directoryUnavailable, why: `routing failed: ${String(error)}` };
  }
  if (route.kind === 'refuse' || route.kind === 'defer')
    return { kind: 'refuse', reply: route.reply, why: route.why };
  if (!q.verifier) return { kind: 'accept', address: verdict.value, route };
  const verification = await q.verifier.verify(verdict.value.address);
  if (verification.kind === 'refused') {
    const { code, text } = verification.reply;
    const status = enhancedStatus(text);
    const reply = status
      ? { code, status, text: text.slice(status.length + 1) }
      : { code, status: code >= 500 ? '5.1.1' : '4.0.0', text };
    return { kind: 'refuse', reply, why: 'refused by the inbound tier' };
  }
  if (verification.kind === 'unknown')
    // Queue it anyway: holding mail while the inbound tier is away is the edge's job.
    return { kind: 'accept', address: verdict.value, route, unverified: verification.reason };
  return { kind: 'accept', address: verdict.value, route };
}
