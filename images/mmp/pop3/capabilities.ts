// What the MMP lists for CAPA before login (RFC 2449): what the store offers, which passes through
// the splice, less what only a login phase answers — STLS, SASL, USER — which the MMP answers itself.
import { oncePerListener } from '../listener-capabilities.ts';

const ANSWERED_BY_THE_MMP = new Set(['STLS', 'SASL', 'USER', 'IMPLEMENTATION', 'APOP']);

export interface Pop3CapabilityContext {
  store: readonly string[];
  secure: boolean;
  starttls: boolean;
  plaintextLogin: boolean;
}

/** Computed once per listener's settings (listener-capabilities.ts). */
export const pop3PreLoginCapabilities = oncePerListener(capabilityList);

function capabilityList(context: Pop3CapabilityContext): string[] {
  const list: string[] = [];
  if (context.secure || context.plaintextLogin) list.push('USER', 'SASL PLAIN');
  if (context.starttls && !context.secure) list.push('STLS');
  const seen = new Set(list.map((c) => c.split(' ')[0]!.toUpperCase()));
  for (const capability of context.store) {
    const keyword = capability.split(' ')[0]!.toUpperCase();
    if (ANSWERED_BY_THE_MMP.has(keyword) || seen.has(keyword)) continue;
    seen.add(keyword);
    list.push(capability);
  }
  return list;
}
