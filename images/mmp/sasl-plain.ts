// SASL PLAIN (RFC 4616) as the MMP meets it twice: decoding what a client sends (IMAP AUTHENTICATE,
// POP3 AUTH) and encoding its own login at the store (authzid = the user, authcid = the proxy).

export interface PlainCredentials {
  /** Who to act as; empty when the client names nobody else. */
  authzid: string;
  /** Who is proving. */
  authcid: string;
  password: string;
}

export type PlainDecoding = { ok: true; credentials: PlainCredentials } | { ok: false; reason: string };

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes a client's base64 PLAIN response, refusing what RFC 4616 section 2 does not allow. */
export function decodePlain(base64: string): PlainDecoding {
  // "=" is an empty initial response (RFC 4959 section 3): no credentials at all.
  if (base64 === '=' || base64 === '') return { ok: false, reason: 'Empty credentials' };
  if (!BASE64.test(base64)) return { ok: false, reason: 'Invalid base64' };
  const bytes = Buffer.from(base64, 'base64');
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0) {
      parts.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  parts.push(bytes.subarray(start));
  if (parts.length !== 3) return { ok: false, reason: 'PLAIN needs authzid, authcid and password' };
  const [authzid, authcid, password] = parts.map((p) => p.toString('utf8')) as [string, string, string];
  // RFC 4616 section 2: each field at most 255 octets.
  if (parts.some((p) => p.length > 255)) return { ok: false, reason: 'PLAIN field over 255 octets' };
  if (authcid === '' || password === '') return { ok: false, reason: 'Empty user name or password' };
  return { ok: true, credentials: { authzid, authcid, password } };
}

export function encodePlain(credentials: PlainCredentials): string {
  return Buffer.from(
    `${credentials.authzid}\0${credentials.authcid}\0${credentials.password}`,
    'utf8',
  ).toString('base64');
}
