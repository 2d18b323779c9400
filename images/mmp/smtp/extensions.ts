// What the MMP's EHLO says (RFC 5321 section 4.1.1.1). After AUTH the client talks to the outbound
// MTA through the splice, and a client plans its session by the EHLO it saw, so the list is the
// MTA's own (its SIZE, PIPELINING, 8BITMIME, SMTPUTF8, ... as it last answered the MMP), less what
// only the MMP's part of the session handles, plus the MMP's own STARTTLS and AUTH.

/** The MTA's keywords the MMP answers itself, or that the client must not see. */
const ANSWERED_BY_THE_MMP = new Set(['STARTTLS', 'AUTH', 'XCLIENT', 'XFORWARD']);
/**
 * BDAT carries its data inline (RFC 3030): refused before AUTH, its chunk would be read as commands.
 * Not offered, so no client sends it before or after.
 */
const NOT_OFFERED = new Set(['CHUNKING']);

/** Until the MTA has answered once: what our MTA (and Postfix) always offer. */
export const DEFAULT_RELAY_EXTENSIONS = ['PIPELINING', '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES'];

/** The keywords of an MTA's EHLO reply lines (after the first, its name) that pass to clients. */
export function relayExtensions(ehloLines: readonly string[]): string[] {
  return ehloLines.slice(1).filter((line) => {
    const keyword = line.split(' ')[0]!.toUpperCase();
    return keyword !== '' && !ANSWERED_BY_THE_MMP.has(keyword) && !NOT_OFFERED.has(keyword);
  });
}

export function ehloKeywords(context: {
  relay: readonly string[];
  secure: boolean;
  starttls: boolean;
  plaintextLogin: boolean;
}): string[] {
  const list: string[] = [];
  if (context.starttls && !context.secure) list.push('STARTTLS');
  // RFC 4954 section 4 and RFC 8314: no AUTH is offered where a password would cross in clear.
  if (context.secure || context.plaintextLogin) list.push('AUTH PLAIN LOGIN');
  return [...list, ...context.relay];
}
