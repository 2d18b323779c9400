// What the server advertises, by state (RFC 9051 7.2.2). Only what is implemented: a client that
// sees a capability uses it, and a half-done one breaks it.
import {
  STORE_IMAP_BASE_CAPABILITIES,
  STORE_IMAP_SESSION_CAPABILITIES,
} from '../../lib/contract/store-capabilities.ts';
import { HANDBACK_CAPABILITY } from '../../lib/contract/handback.ts';
import type { ImapSession } from './session.ts';

/** Set by the modules that add an extension once it is complete (SORT, THREAD). */
export const optionalCapabilities: string[] = [];

export function capabilities(session: ImapSession): string[] {
  const list = [...STORE_IMAP_BASE_CAPABILITIES];
  if (session.state === 'not-authenticated') {
    if (session.transport.startTls && !session.transport.secure) list.push('STARTTLS');
    list.push('AUTH=PLAIN');
    if (session.options.onHandback) list.push(HANDBACK_CAPABILITY);
    return list;
  }
  list.push(...STORE_IMAP_SESSION_CAPABILITIES, `APPENDLIMIT=${session.options.maxMessageBytes}`);
  if (session.transport.startCompression && !session.compressed) list.push('COMPRESS=DEFLATE');
  list.push(...optionalCapabilities);
  return list;
}

export function capabilityLine(session: ImapSession): string {
  return capabilities(session).join(' ');
}
