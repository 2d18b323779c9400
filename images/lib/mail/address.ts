// Envelope addresses (RFC 5321 section 4.1.2 Mailbox), parsed strictly enough that nothing we accept
// can be read as a route to somewhere else. smtp-server has already taken the angle brackets off and
// dropped any source route (`@a,@b:user@c`, which RFC 5321 appendix C lets a server ignore); every
// other relay trick reaches us and is refused here:
//   percent hack `user%elsewhere@hosted`, bang path `elsewhere!user@hosted`, quoted local parts
//   `"user@elsewhere"@hosted`, address literals `user@[192.0.2.1]`, trailing dots `user@hosted.`.
// Some of those are valid RFC 5321 syntax; no legitimate sender needs them towards this site, and
// every hop that interprets them differently is a way to relay.
import { domainToASCII } from 'node:url';

export interface MailAddress {
  /** The local part as the sender wrote it: its case may matter to the receiving system. */
  local: string;
  /** The domain in ASCII (A-labels), lower case: the form we compare and route by. */
  domain: string;
  /** local@domain with the normalised domain. */
  address: string;
}

export type AddressProblem =
  /** Not a mailbox at all. */
  | 'syntax'
  /** Percent hack, bang path or quoted local part: asks us to route somewhere the domain does not say. */
  | 'relay-form'
  /** A domain written as an address literal. */
  | 'address-literal'
  /** Non-ASCII without the SMTPUTF8 parameter (RFC 6531 section 3.4). */
  | 'needs-smtputf8'
  /** Over the limits of RFC 5321 section 4.5.3.1. */
  | 'too-long';

export type AddressParse = { ok: true; value: MailAddress } | { ok: false; problem: AddressProblem };

/** atext of RFC 5322 section 3.2.3, plus any non-ASCII character (RFC 6531's UTF8-non-ascii). */
const ATOM = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\u{10FFFF}]+$/u;
const ASCII_ATOM = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+$/;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function parseMailbox(text: string, options: { smtpUtf8: boolean }): AddressParse {
  const fail = (problem: AddressProblem): AddressParse => ({ ok: false, problem });
  if (Buffer.byteLength(text, 'utf8') > 254) return fail('too-long');
  if (text.includes('"') || text.includes('\\')) return fail('relay-form');
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) return fail('syntax');
  const local = text.slice(0, at);
  const domainText = text.slice(at + 1);
  if (local.includes('@')) return fail('relay-form');
  if (domainText.startsWith('[')) return fail('address-literal');
  // `%` and `!` are valid atext, but mean "route onwards" to sendmail-era software.
  if (local.includes('%') || local.includes('!')) return fail('relay-form');
  if (Buffer.byteLength(local, 'utf8') > 64) return fail('too-long');
  const atomPattern = options.smtpUtf8 ? ATOM : ASCII_ATOM;
  const atoms = local.split('.');
  if (!atoms.every((a) => a.length > 0 && atomPattern.test(a))) {
    return fail(
      !options.smtpUtf8 && atoms.every((a) => a.length > 0 && ATOM.test(a)) ? 'needs-smtputf8' : 'syntax',
    );
  }
  // A trailing dot makes a domain absolute in DNS, but "hosted." is not a name we host, and a hop that
  // strips it would read the address differently from us.
  if (domainText.endsWith('.') || domainText.startsWith('.') || domainText.includes('..'))
    return fail('syntax');
  if (/[\p{Cc} ]/u.test(domainText)) return fail('syntax');
  const nonAscii = /[^\p{ASCII}]/u.test(domainText);
  if (nonAscii && !options.smtpUtf8) return fail('needs-smtputf8');
  const domain = domainToASCII(domainText);
  if (domain === '' || Buffer.byteLength(domain) > 253) return fail(domain === '' ? 'syntax' : 'too-long');
  if (!domain.split('.').every((label) => LABEL.test(label))) return fail('syntax');
  return { ok: true, value: { local, domain, address: `${local}@${domain}` } };
}

/** The domain part in its comparable form, for the site's own lists of domains. */
export function normaliseDomain(domain: string): string {
  return domainToASCII(domain.replace(/\.$/, '')) || domain.toLowerCase();
}
