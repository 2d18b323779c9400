// ENVELOPE (RFC 9051 7.5.2): ten header fields as IMAP strings and address lists, unparsed text as
// it is in the header (encoded words are the client's to decode), addresses split by nodemailer's
// address parser. Parsed into plain data (kept in the engine's cache as JSON), rendered on FETCH.
// RFC 9051: Sender and Reply-To default to From.
import addressparser from 'nodemailer/lib/addressparser';
import { adjacent, type ImapValue } from '../protocol/response.ts';
import { firstValue, type HeaderField } from './header-fields.ts';

/** [name, adl, mailbox, host]; a group is a start marker [null, null, name, null] … [null × 4]. */
export type EnvelopeAddress = [string | null, null, string | null, string | null];

export interface EnvelopeData {
  date: string | null;
  subject: string | null;
  from: EnvelopeAddress[] | null;
  sender: EnvelopeAddress[] | null;
  replyTo: EnvelopeAddress[] | null;
  to: EnvelopeAddress[] | null;
  cc: EnvelopeAddress[] | null;
  bcc: EnvelopeAddress[] | null;
  inReplyTo: string | null;
  messageId: string | null;
  /** Not part of ENVELOPE: the References field, kept for THREAD=REFERENCES (RFC 5256). */
  references?: string | null;
}

export function parseEnvelope(fields: readonly HeaderField[]): EnvelopeData {
  const text = (name: string) => firstValue(fields, name) ?? null;
  const from = addresses(text('from'));
  return {
    date: text('date'),
    subject: text('subject'),
    from,
    sender: addresses(text('sender')) ?? from,
    replyTo: addresses(text('reply-to')) ?? from,
    to: addresses(text('to')),
    cc: addresses(text('cc')),
    bcc: addresses(text('bcc')),
    inReplyTo: text('in-reply-to'),
    messageId: text('message-id'),
    references: text('references'),
  };
}

export function renderEnvelope(e: EnvelopeData): ImapValue[] {
  const list = (a: EnvelopeAddress[] | null) => (a ? adjacent(a, true) : null);
  return [
    e.date,
    e.subject,
    list(e.from),
    list(e.sender),
    list(e.replyTo),
    list(e.to),
    list(e.cc),
    list(e.bcc),
    e.inReplyTo,
    e.messageId,
  ];
}

export function addresses(value: string | null): EnvelopeAddress[] | null {
  if (value === null || value.trim() === '') return null;
  const list: EnvelopeAddress[] = [];
  for (const entry of addressparser(value)) {
    if (entry.group) {
      list.push([null, null, entry.name || null, null]);
      for (const member of entry.group) if (!member.group) list.push(mailbox(member.name, member.address));
      list.push([null, null, null, null]);
    } else {
      list.push(mailbox(entry.name, entry.address));
    }
  }
  return list.length > 0 ? list : null;
}

function mailbox(name: string, address: string): EnvelopeAddress {
  const at = address.lastIndexOf('@');
  const local = at >= 0 ? address.slice(0, at) : address;
  const host = at >= 0 ? address.slice(at + 1) : null;
  return [name || null, null, local || null, host || null];
}
