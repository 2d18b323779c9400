// SASL PLAIN (RFC 4616): base64 of "authzid NUL authcid NUL password". Pure; shared by the store's
// protocols, since the MMP logs in the same way to IMAP and POP3.

export interface PlainCredentials {
  readonly authzid: string;
  readonly authcid: string;
  readonly password: string;
}

/** The credentials, or undefined for anything that is not a well-formed PLAIN response. */
export function decodeSaslPlain(base64: string): PlainCredentials | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) return undefined;
  const parts = Buffer.from(base64, 'base64').toString('utf8').split('\0');
  if (parts.length !== 3) return undefined;
  const [authzid, authcid, password] = parts as [string, string, string];
  if (authcid === '' || password === '') return undefined;
  return { authzid, authcid, password };
}

/**
 * USER/LOGIN for clients without SASL: "user*proxy-identity" carries the same pair as PLAIN's
 * authzid and authcid (Dovecot's master-user separator).
 */
export function splitMasterUser(name: string): { authzid: string; authcid: string } {
  const star = name.lastIndexOf('*');
  return star > 0
    ? { authzid: name.slice(0, star), authcid: name.slice(star + 1) }
    : { authzid: '', authcid: name };
}
