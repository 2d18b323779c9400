// The directory answers of successful logins, for a short time (the directory's cacheTTL): a client
// that logs in every minute (a phone polling, a webmail) costs the directory a search and a bind
// once per TTL instead of each time. What is kept is the entry and a verifier of the password, a
// keyed hash with a key that lives only in this process's memory, never the password itself. Failed
// logins are never cached: a wrong password always goes to the directory (which may by now accept
// it), and a right one that no longer matches the verifier does too.
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DirectoryEntry } from '../../lib/directory/entry.ts';
import { TtlCache } from '../../lib/ttl-cache.ts';

interface CachedLogin {
  entry: DirectoryEntry;
  verifier: Buffer;
}

export class LoginCache {
  readonly #key = randomBytes(32).toString('hex');
  readonly #cache: TtlCache<string, CachedLogin>;

  constructor(options: { ttlMs: number; maxEntries: number; now?: () => number }) {
    this.#cache = new TtlCache(options);
  }

  /**
   * SHA3-256 of the key, the login and the password: a sponge keyed by its prefix is a MAC (no
   * length extension, unlike SHA-2), and one crypto.hash call makes no HMAC object, key object and
   * context each time (those were 6-7 % of the MMP's login profile, the hash is 2 %).
   */
  #verifier(login: string, password: string): Buffer {
    return hash('sha3-256', `${this.#key}${login}\0${password}`, 'buffer');
  }

  /** The entry when this login and password succeeded within the TTL; otherwise undefined. */
  check(login: string, password: string): DirectoryEntry | undefined {
    const cached = this.#cache.get(login);
    if (!cached) return undefined;
    return timingSafeEqual(cached.verifier, this.#verifier(login, password)) ? cached.entry : undefined;
  }

  remember(login: string, password: string, entry: DirectoryEntry): void {
    this.#cache.set(login, { entry, verifier: this.#verifier(login, password) });
  }

  /** Forgets everything (a user was moved: the next logins ask the directory again). */
  clear(): void {
    this.#cache.clear();
  }

  get size(): number {
    return this.#cache.size;
  }
}

/**
 * The account a session acts for: the entry's primary address, the key the MTAs deliver to over
 * LMTP (so what is read at the store is what was delivered there), and what the outbound MTA finds
 * the user by after XCLIENT. The uid only for an entry without one.
 */
export function identityOf(entry: Pick<DirectoryEntry, 'uid' | 'mail' | 'dn'>): string {
  return entry.mail ?? entry.uid ?? entry.dn;
}
