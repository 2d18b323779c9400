// The bounce a sender gets when mail cannot be delivered: a delivery status notification in the
// format of RFC 3464 (message/delivery-status) inside a multipart/report (RFC 6522), with the
// original message's header section as the third part (text/rfc822-headers) — enough to identify
// the message without sending a copy of its content back out.
//
// Bounces go from the null sender (MAIL FROM:<>, RFC 5321 section 4.5.5) so that a bounce can never
// bounce; a message that itself came from the null sender is never bounced.
import { randomBytes } from 'node:crypto';
import { rfc5322Date } from './received-header.ts';

export interface FailedRecipient {
  address: string;
  /** RFC 3463 status, e.g. 5.1.1, or 4.4.7 for "delivery time expired". */
  status: string;
  /** The last reply or error, as one line: what the remote server (or we) said. */
  diagnostic: string;
  /** The server that gave the reply, when one did. */
  remoteMta?: string;
}

export interface BounceInput {
  reportingMta: string;
  queueId: string;
  /** The original sender: the bounce's only recipient. */
  sender: string;
  arrivalDate: Date;
  now: Date;
  recipients: FailedRecipient[];
  /** The original message (only its header section is used). */
  original: Buffer;
  /** For tests: a fixed MIME boundary. */
  boundary?: string;
}

/** The header section of a message: everything before the first empty line. */
export function headerSection(message: Buffer, limit = 64 * 1024): Buffer {
  const end = message.indexOf('\r\n\r\n');
  const headers = end < 0 ? message : message.subarray(0, end + 2);
  return headers.subarray(0, limit);
}

function oneLine(text: string): string {
  return text
    .replace(/\p{Cc}+/gu, ' ')
    .trim()
    .slice(0, 900);
}

export function buildBounce(input: BounceInput): Buffer {
  const boundary = input.boundary ?? `mtopo-${randomBytes(12).toString('hex')}`;
  const now = rfc5322Date(input.now);
  const expired = input.recipients.some((r) => r.status === '4.4.7');
  const human = [
    `This is the mail system at ${input.reportingMta}.`,
    '',
    expired
      ? 'Your message could not be delivered in the time it was kept in the queue, and has been'
      : 'Your message could not be delivered to one or more recipients, and has been',
    'given up on. The reasons are below; the attached report says the same for software.',
    '',
    ...input.recipients.map((r) => `<${r.address}>: ${oneLine(r.diagnostic)}`),
    '',
  ];
  const perMessage = [
    `Reporting-MTA: dns; ${input.reportingMta}`,
    `X-Mtopo-Queue-ID: ${input.queueId}`,
    `Arrival-Date: ${rfc5322Date(input.arrivalDate)}`,
  ];
  const perRecipient = input.recipients.map((r) =>
    [
      `Final-Recipient: rfc822; ${r.address}`,
      'Action: failed',
      `Status: ${r.status}`,
      ...(r.remoteMta ? [`Remote-MTA: dns; ${oneLine(r.remoteMta)}`] : []),
      `Diagnostic-Code: smtp; ${oneLine(r.diagnostic)}`,
      `Last-Attempt-Date: ${now}`,
    ].join('\r\n'),
  );
  const head = [
    `From: Mail Delivery System <MAILER-DAEMON@${input.reportingMta}>`,
    `To: <${input.sender}>`,
    'Subject: Undelivered Mail Returned to Sender',
    `Date: ${now}`,
    `Message-ID: <${input.queueId}.dsn@${input.reportingMta}>`,
    // RFC 3834: automatic responders must not answer this.
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    '',
    'This is a MIME-encapsulated message.',
    '',
    `--${boundary}`,
    'Content-Description: Notification',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    ...human,
    `--${boundary}`,
    'Content-Description: Delivery report',
    'Content-Type: message/delivery-status',
    '',
    perMessage.join('\r\n'),
    '',
    perRecipient.join('\r\n\r\n'),
    '',
    `--${boundary}`,
    'Content-Description: Undelivered message headers',
    'Content-Type: text/rfc822-headers',
    '',
    '',
  ].join('\r\n');
  const tail = `\r\n--${boundary}--\r\n`;
  return Buffer.concat([Buffer.from(head, 'utf8'), headerSection(input.original), Buffer.from(tail, 'utf8')]);
}
