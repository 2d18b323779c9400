// The capabilities our store offers, the MMP's defaults for what the stores offer after login.

/**
 * What the store's IMAP server advertises in every state (images/store/imap/capabilities.ts adds
 * STARTTLS and AUTH=PLAIN before login, APPENDLIMIT and COMPRESS after). The MMP answers CAPABILITY
 * before login from these lists too (contract/mmp.ts), so they live here, written once, and apart
 * from the store's config schema: the store's own process does not load zod (images/lib/load-config.ts).
 */
export const STORE_IMAP_BASE_CAPABILITIES = ['IMAP4rev1', 'IMAP4rev2', 'LITERAL+', 'SASL-IR', 'ID', 'ENABLE'];

/** What the store's IMAP server adds once a user is logged in. */
export const STORE_IMAP_SESSION_CAPABILITIES = [
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
  'SEARCHRES',
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
  'UTF8=ACCEPT',
];

/** What the store's POP3 server offers (RFC 2449), besides its login mechanisms and STLS. */
export const STORE_POP3_CAPABILITIES = ['TOP', 'UIDL', 'RESP-CODES', 'PIPELINING', 'AUTH-RESP-CODE'];
