// What the server advertises, by state (RFC 9051 7.2.2). Only what is implemented: a client that
// sees a capability uses it, and a half-done one breaks it.
import type { ImapSession } from './session.ts';

const ALWAYS = ['IMAP4rev1', 'IMAP4rev2', 'LITERAL+', 'SASL-IR', 'ID', 'ENABLE'];

const AFTER_LOGIN = [
  'IDLE',
  'NAMESPACE',
  'UIDPLUS',
  'MOVE',
  'UNSELECT',
  'CHILDREN',
  'LIST-EXTENDED',
  'LIST-STATUS',
  'SPECIAL-USE',
  'CREATE-SPECIAL-USE',
  'ESEARCH',
  'CONDSTORE',
  'QRESYNC',
  'STATUS=SIZE',
  'MULTIAPPEND',
  'BINARY',
  'SORT',
  'SORT=DISPLAY',
  'THREAD=ORDEREDSUBJECT',
  'THREAD=REFERENCES',
  'QUOTA',
  'QUOTA=RES-STORAGE',
  'QUOTA=RES-MESSAGE',
];

/** Set by the modules that add an extension once it is complete (SORT, THREAD). */
export const optionalCapabilities: string[] = [];

export function capabilities(session: ImapSession): string[] {
  const list = [...ALWAYS];
  if (session.state === 'not-authenticated') {
    if (session.transport.startTls && !session.transport.secure) list.push('STARTTLS');
    list.push('AUTH=PLAIN');
    return list;
  }
  list.push(...AFTER_LOGIN, `APPENDLIMIT=${session.options.maxMessageBytes}`);
  if (session.transport.startCompression && !session.compressed) list.push('COMPRESS=DEFLATE');
  list.push(...optionalCapabilities);
  return list;
}

export function capabilityLine(session: ImapSession): string {
  return capabilities(session).join(' ');
}
