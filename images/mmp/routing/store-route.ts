// Where a user's mailbox lives: the entry's mailHost, looked up in the config's store map, which
// holds each store replica under both names a directory may hold (`t-store-i` and its stable DNS
// name, docs/design.md). Host names compare without case and without a trailing dot (RFC 4343).
import type { DirectoryEntry } from '../../lib/directory/entry.ts';

export type StoreProtocol = 'imap' | 'pop3';

/** A store's addresses as the config's store map holds them (contract: storeAddressConfig). */
export interface StoreAddress {
  host: string;
  imapPort: number;
  pop3Port: number;
}

export type StoreRoute =
  | { ok: true; store: string; host: string; port: number }
  /** The entry has no mailHost, or one that names no store here (a user on a legacy system). */
  | { ok: false; reason: 'no-mailhost' | 'not-a-store'; mailHost?: string };

const normalize = (host: string) => host.trim().toLowerCase().replace(/\.$/, '');

/** The store map with normalized keys, built once per config. */
export function indexStores(stores: Record<string, StoreAddress>): ReadonlyMap<string, StoreAddress> {
  return new Map(Object.entries(stores).map(([name, address]) => [normalize(name), address]));
}

export function routeToStore(
  entry: Pick<DirectoryEntry, 'mailHost'>,
  stores: ReadonlyMap<string, StoreAddress>,
  protocol: StoreProtocol,
): StoreRoute {
  if (!entry.mailHost) return { ok: false, reason: 'no-mailhost' };
  const address = stores.get(normalize(entry.mailHost));
  if (!address) return { ok: false, reason: 'not-a-store', mailHost: entry.mailHost };
  return {
    ok: true,
    store: normalize(address.host),
    host: address.host,
    port: protocol === 'imap' ? address.imapPort : address.pop3Port,
  };
}

/**
 * The order to try a store's addresses in (a name may resolve to several): the one that worked last
 * first, then the rest as resolved. A store replica is one mailHost, so its addresses are the same
 * mailbox; trying the next is safe.
 */
export function addressOrder(addresses: readonly string[], lastGood: string | undefined): string[] {
  if (!lastGood || !addresses.includes(lastGood)) return [...addresses];
  return [lastGood, ...addresses.filter((a) => a !== lastGood)];
}
