// The MTA's policy as pure decisions over what the session knows: may this client connect, may it
// send as this sender, may it send to this recipient. Each returns the refusal or what was accepted;
// the receiving adapter only turns refusals into replies. Whether a recipient exists is routing's
// business (routing.ts), asked after these rules pass.
import type { MtaConfig } from '../../lib/contract/mta.ts';
import { parseMailbox, type AddressProblem, type MailAddress } from '../../lib/mail/address.ts';
import type { AddressSet } from '../../lib/contract/cidr.ts';
import { REPLIES, type SmtpReply } from './replies.ts';
import { relayRefusal, type RoutingTable } from './routing.ts';

export type Role = MtaConfig['role'];

/**
 * What a listener is for. `mx`: mail from other MTAs (the internet tier, the inbound and gateway
 * tiers); `submission`: users, after AUTH (the outbound tier's 587 and 465); `relay`: the outbound
 * tier's hand-off port for the site's own inbound tier (forwarding and bounces to the outside).
 */
export type Channel = 'mx' | 'submission' | 'relay';

export function channelOf(role: Role, protocol: string): Channel {
  if (role !== 'outbound') return 'mx';
  return protocol === 'smtp' ? 'relay' : 'submission';
}

/** Who a session is authenticated as. */
export type SessionUser =
  /** A user of the site: the identity comes from the directory entry, not from what the client typed. */
  | { kind: 'user'; login: string; addresses: string[] }
  /** The MMP's SMTP proxy, which may use XCLIENT but sends nothing as itself. */
  | { kind: 'proxy' };

export type Verdict<T> = { ok: true; value: T } | { ok: false; reply: SmtpReply };

const refuse = <T>(reply: SmtpReply): Verdict<T> => ({ ok: false, reply });

export function connectionRefusal(input: {
  role: Role;
  channel: Channel;
  remoteAddress: string;
  acceptFrom: AddressSet;
  draining: boolean;
  connectionsFromClient: number;
  maxConnectionsPerClient: number;
}): SmtpReply | undefined {
  if (input.draining) return REPLIES.shuttingDown;
  // The inbound and gateway tiers, and the outbound tier's relay port, are fed by other tiers
  // only; the firewall says so too.
  const restricted = input.role === 'inbound' || input.role === 'gateway' || input.channel === 'relay';
  if (restricted && !input.acceptFrom.has(input.remoteAddress)) {
    return REPLIES.networkNotAllowed;
  }
  if (input.connectionsFromClient > input.maxConnectionsPerClient)
    return REPLIES.tooManyConnectionsFromClient;
  return undefined;
}

function problemReply(problem: AddressProblem, sender: boolean): SmtpReply {
  switch (problem) {
    case 'syntax':
      return sender ? REPLIES.badSenderSyntax : REPLIES.badAddressSyntax;
    case 'relay-form':
      return sender ? REPLIES.badSenderSyntax : REPLIES.relayForm;
    case 'address-literal':
      return sender ? REPLIES.badSenderSyntax : REPLIES.addressLiteral;
    case 'needs-smtputf8':
      return REPLIES.needsSmtpUtf8;
    case 'too-long':
      return REPLIES.addressTooLong;
  }
}

/**
 * MAIL FROM. The null sender (`<>`, bounces, RFC 5321 section 4.5.5) is accepted from other MTAs;
 * a submitting user has no business sending one. A submitting user may send only as one of the
 * addresses the directory gives them.
 */
export function senderVerdict(input: {
  role: Role;
  channel: Channel;
  sender: string;
  smtpUtf8: boolean;
  user: SessionUser | undefined;
}): Verdict<MailAddress | null> {
  const submission = input.channel === 'submission';
  if (submission) {
    if (!input.user) return refuse(REPLIES.authRequired);
    if (input.user.kind === 'proxy') return refuse(REPLIES.proxyCannotSend);
  }
  if (input.sender === '') {
    return submission ? refuse(REPLIES.senderNotOwned) : { ok: true, value: null };
  }
  const parsed = parseMailbox(input.sender, { smtpUtf8: input.smtpUtf8 });
  if (!parsed.ok) return refuse(problemReply(parsed.problem, true));
  if (submission && input.user?.kind === 'user') {
    const owned = input.user.addresses.includes(parsed.value.address.toLowerCase());
    if (!owned) return refuse(REPLIES.senderNotOwned);
  }
  return { ok: true, value: parsed.value };
}

/** RCPT TO, before routing: is the address well formed, and does the role take mail for it at all. */
export function recipientVerdict(input: {
  table: RoutingTable;
  channel: Channel;
  recipient: string;
  smtpUtf8: boolean;
  user: SessionUser | undefined;
}): Verdict<MailAddress> {
  const parsed = parseMailbox(input.recipient, { smtpUtf8: input.smtpUtf8 });
  if (!parsed.ok) return refuse(problemReply(parsed.problem, false));
  // The relay port is the site's own inbound tier handing over mail it has already accepted.
  const mayRelay = input.user?.kind === 'user' || input.channel === 'relay';
  const refusal = relayRefusal(input.table, parsed.value, mayRelay);
  if (refusal) return refuse(refusal);
  return { ok: true, value: parsed.value };
}

/** The addresses a directory entry may send as, compared in lower case. */
export function ownedAddresses(entry: { mail: string | undefined; aliases: string[] }): string[] {
  return [entry.mail, ...entry.aliases]
    .filter((a): a is string => !!a)
    .map((a) => {
      const parsed = parseMailbox(a, { smtpUtf8: true });
      return (parsed.ok ? parsed.value.address : a).toLowerCase();
    });
}
