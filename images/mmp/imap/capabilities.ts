// What the MMP advertises before login (RFC 9051 section 7.2.2). A client decides what to use from
// the list it sees before login and is not obliged to ask again, so the list must already be what
// the store offers after login — those capabilities pass through the splice untouched — less what
// only the store's own login phase would handle, which the MMP answers itself.
import type { LiteralMode } from '../../lib/imap/command-reader.ts';
import { oncePerListener } from '../listener-capabilities.ts';

/** The store's pre-login capabilities that the MMP replaces with its own. */
const ANSWERED_BY_THE_MMP = new Set([
  'IMAP4',
  'IMAP4REV1',
  'IMAP4REV2',
  'STARTTLS',
  'LOGINDISABLED',
  'SASL-IR',
  'ID',
  // The MMP is what hides the store layout: it never refers a client elsewhere.
  'LOGIN-REFERRALS',
  'MAILBOX-REFERRALS',
]);

function answeredByTheMmp(capability: string): boolean {
  const upper = capability.toUpperCase();
  return ANSWERED_BY_THE_MMP.has(upper) || upper.startsWith('AUTH=');
}

export interface CapabilityContext {
  /** What the store offers after login (from the config). */
  store: readonly string[];
  /** The connection is encrypted (implicit TLS, or after STARTTLS). */
  secure: boolean;
  /** This listener can start TLS. */
  starttls: boolean;
  /** Logins in clear are allowed (off unless the site says so). */
  plaintextLogin: boolean;
}

/** Computed once per listener's settings (listener-capabilities.ts). */
export const preLoginCapabilities = oncePerListener(capabilityList);

function capabilityList(context: CapabilityContext): string[] {
  const store = context.store.map((c) => c.toUpperCase());
  const list = ['IMAP4rev1'];
  if (store.includes('IMAP4REV2')) list.push('IMAP4rev2');
  list.push('SASL-IR', 'ID');
  if (context.starttls && !context.secure) list.push('STARTTLS');
  if (context.secure || context.plaintextLogin) list.push('AUTH=PLAIN');
  else list.push('LOGINDISABLED');
  const seen = new Set(list.map((c) => c.toUpperCase()));
  for (const capability of context.store) {
    const upper = capability.toUpperCase();
    if (answeredByTheMmp(capability) || seen.has(upper)) continue;
    seen.add(upper);
    list.push(capability);
  }
  return list;
}

/** Which non-synchronizing literals the advertised list allows (RFC 7888): LITERAL+ covers LITERAL-. */
export function nonSyncLiteralMode(capabilities: readonly string[]): LiteralMode {
  const upper = capabilities.map((c) => c.toUpperCase());
  if (upper.includes('LITERAL+')) return 'plus';
  return upper.includes('LITERAL-') ? 'minus' : 'none';
}
