// Every reply the MTA's own policy gives, in one place: code, enhanced status code (RFC 3463) and
// text. smtp-server writes its own replies for protocol errors; these are the decisions.
// Temporary (4xx) where waiting can help — the sender keeps the message and tries again — and
// permanent (5xx) only where the answer will not change.

export interface SmtpReply {
  readonly code: number;
  /** Enhanced status code, RFC 3463 (advertised as ENHANCEDSTATUSCODES, RFC 2034). */
  readonly status: string;
  readonly text: string;
}

const reply = (code: number, status: string, text: string): SmtpReply => ({ code, status, text });

export const REPLIES = {
  // Connection (RFC 5321 section 3.1: 554 instead of a greeting; section 3.8: 421 to close)
  networkNotAllowed: reply(554, '5.7.1', 'This service does not accept connections from your network'),
  tooManyConnectionsFromClient: reply(
    421,
    '4.7.0',
    'Too many connections from your address, try again later',
  ),
  shuttingDown: reply(421, '4.3.2', 'Service shutting down, try again later'),
  tooManyRecipientErrorsFromClient: reply(
    421,
    '4.7.0',
    'Too many refused recipients from your address, try again later',
  ),
  // RFC 5321 section 4.5.3.2: the server may close a session that is too slow (421, 4.4.2 timeout).
  commandTimeout: reply(421, '4.4.2', 'Timeout waiting for a command, closing connection'),
  dataTimeout: reply(421, '4.4.2', 'The message took too long to send, closing connection'),
  dataTooSlow: reply(421, '4.4.2', 'The message is arriving too slowly, closing connection'),

  // Authentication (RFC 4954 section 6)
  authFailed: reply(535, '5.7.8', 'Authentication credentials invalid'),
  authUnavailable: reply(454, '4.7.0', 'Temporary authentication failure, try again later'),
  authLockedOut: reply(454, '4.7.0', 'Too many failed logins, try again later'),
  proxyNotTrusted: reply(535, '5.7.8', 'Authentication credentials invalid'),
  xclientUnknownUser: reply(550, '5.7.1', 'XCLIENT LOGIN names no user of this site'),

  // Sender
  authRequired: reply(530, '5.7.0', 'Authentication required'),
  proxyCannotSend: reply(530, '5.7.0', 'The proxy identity sends no mail; name the user with XCLIENT LOGIN'),
  senderNotOwned: reply(553, '5.7.1', "Sender address is not one of the authenticated user's addresses"),
  rateLimited: reply(450, '4.7.1', 'Too many messages from your address, try again later'),

  // Recipient
  relayDenied: reply(554, '5.7.1', 'Relay access denied'),
  relayForm: reply(553, '5.7.1', 'Percent-hack, bang-path and quoted addresses are not accepted'),
  addressLiteral: reply(553, '5.7.1', 'Address literals are not accepted'),
  badAddressSyntax: reply(553, '5.1.3', 'Bad address syntax'),
  badSenderSyntax: reply(553, '5.1.7', 'Bad sender address syntax'),
  addressTooLong: reply(553, '5.1.3', 'Address too long'),
  needsSmtpUtf8: reply(553, '5.6.7', 'Non-ASCII address needs the SMTPUTF8 parameter'),
  unknownUser: reply(550, '5.1.1', 'No such user here'),
  ambiguousUser: reply(451, '4.1.4', 'Address is ambiguous in the directory, try again later'),
  directoryUnavailable: reply(451, '4.4.3', 'Directory unavailable, try again later'),
  mailboxNotRoutable: reply(451, '4.3.0', 'Mailbox is not on a host this site serves, try again later'),
  forwardingLoop: reply(554, '5.4.6', 'Forwarding loop'),
  tooManyRecipients: reply(452, '4.5.3', 'Too many recipients'),
  // Postfix's smtpd_hard_error_limit: a session that guesses addresses is closed.
  tooManyRecipientErrors: reply(421, '4.7.0', 'Too many refused recipients, closing connection'),

  // Message
  smuggling: reply(
    554,
    '5.5.2',
    'A line ends in a bare CR or LF next to a single dot (RFC 5321 section 2.3.8)',
  ),
  messageTooBig: reply(552, '5.3.4', 'Message too big'),
  queueFailure: reply(451, '4.3.0', 'Could not queue the message, try again later'),
  // RFC 3463 4.3.1 "mail system full"; 452 at MAIL (RFC 5321 section 4.2.2).
  insufficientStorage: reply(452, '4.3.1', 'Insufficient system storage, try again later'),
} as const satisfies Record<string, SmtpReply>;

export type ReplyName = keyof typeof REPLIES;

/** The reply as one line of text without the code: what smtp-server writes after the code. */
export function replyText(r: SmtpReply): string {
  return `${r.status} ${r.text}`;
}

/** The whole reply line, the way a peer sees it. */
export function replyLine(r: SmtpReply): string {
  return `${r.code} ${r.status} ${r.text}`;
}

export function isPermanent(r: SmtpReply): boolean {
  return r.code >= 500;
}
