// What the MMP lists for CAPA before login (RFC 2449): what the store offers, which passes through
// the splice, less what only a login phase answers — STLS, SASL, USER — which the MMP answers itself.
const ANSWERED_BY_THE_MMP = new Set(['STLS', 'SASL', 'USER', 'IMPLEMENTATION', 'APOP']);

export interface Pop3CapabilityContext {
  store: readonly string[];
  secure: boolean;
  starttls: boolean;
  plaintextLogin: boolean;
}

/** Computed once per listener's settings (every session's CAPA would otherwise rebuild it). */
const computed = new WeakMap<readonly string[], Map<number, readonly string[]>>();

export function pop3PreLoginCapabilities(context: Pop3CapabilityContext): readonly string[] {
  const key = (context.secure ? 1 : 0) | (context.starttls ? 2 : 0) | (context.plaintextLogin ? 4 : 0);
  let lists = computed.get(context.store);
  if (!lists) computed.set(context.store, (lists = new Map<number, readonly string[]>()));
  let list = lists.get(key);
  if (!list) lists.set(key, (list = Object.freeze(capabilityList(context))));
  return list;
}

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
