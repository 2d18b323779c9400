// The IMAP handback between the MMP and our store, written once for both (the store's side is
// images/store/imap/handback.ts, the MMP's images/mmp/splice.ts and store-login/): after LOGOUT the
// store gives the connection back to the MMP for its next login instead of closing it. The MMP
// names two nonces in its ID before logging in; the store, once the MMP's login is proven, ends
// the session at LOGOUT with `* X-MTOPO-HANDBACK <marker>` and drops every byte until the line
// `<resync>`, then greets again. The resync nonce never reaches a client, and a marker is used once.

export const HANDBACK_CAPABILITY = 'X-MTOPO-HANDBACK';
export const HANDBACK_ID_FIELD = 'x-mtopo-handback';

export interface HandbackNonces {
  readonly marker: string;
  readonly resync: string;
}

/** 128 to 256 bits in lowercase hex: random enough that no one guesses it, short to scan for. */
const NONCE = /^[0-9a-f]{32,64}$/;

/** The ID field's value, "MARKER RESYNC", or undefined when it is not two distinct nonces. */
export function parseHandbackNonces(value: string): HandbackNonces | undefined {
  const parts = value.split(' ');
  if (parts.length !== 2) return undefined;
  const [marker, resync] = parts as [string, string];
  if (!NONCE.test(marker) || !NONCE.test(resync) || marker === resync) return undefined;
  return { marker, resync };
}

/** What the marker line starts with: the MMP looks for it in what the store sends. */
export const HANDBACK_LINE_PREFIX = `* ${HANDBACK_CAPABILITY} `;

export function handbackLine(marker: string): string {
  return `${HANDBACK_LINE_PREFIX}${marker}\r\n`;
}

export function resyncLine(resync: string): string {
  return `${resync}\r\n`;
}
