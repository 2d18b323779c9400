// The penalty box: what a guesser pays. Each failure (a wrong password, an unknown recipient) is
// counted against a key — a client address, an account — within a sliding window. The first few are
// free (people mistype); after that each answer is delayed, doubling up to a ceiling; past a limit
// the key is locked out for a while and gets a temporary refusal without its credentials even being
// checked. The classic MMP's BadGuy settings and fail2ban work the same way. A success forgets the
// key's failures (RFC 4954 section 4 leaves the policy to the server).
//
// Pure state over an injected clock; the programs decide what a key is and what the refusal says.
// Memory is bounded: at most `maxKeys` keys are tracked, the oldest dropped first.

export interface PenaltyPolicy {
  /** Failures within the window whose answers cost nothing; the attempt after them waits. */
  readonly freeFailures: number;
  /** Delay after the first failure beyond the free ones; doubles with each further failure. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Failures within the window after which the key is locked out. */
  readonly lockoutAfter: number;
  readonly lockoutMs: number;
  /** Failures older than this are forgotten. */
  readonly windowMs: number;
  readonly maxKeys?: number;
}

export type Penalty =
  /** Go on, after waiting `delayMs` (0: at once). */
  | { readonly kind: 'delay'; readonly delayMs: number }
  /** Refuse without checking, until `until` (epoch ms). */
  | { readonly kind: 'locked'; readonly until: number };

interface Record {
  failures: number[];
  lockedUntil: number;
}

export class PenaltyBox {
  readonly #policy: PenaltyPolicy;
  readonly #now: () => number;
  readonly #keys = new Map<string, Record>();
  #lockouts = 0;

  constructor(policy: PenaltyPolicy, now: () => number = Date.now) {
    this.#policy = policy;
    this.#now = now;
  }

  /** What the key pays now, before its attempt is checked. */
  check(key: string): Penalty {
    const record = this.#keys.get(key);
    if (!record) return { kind: 'delay', delayMs: 0 };
    const now = this.#now();
    if (record.lockedUntil > now) return { kind: 'locked', until: record.lockedUntil };
    this.#forgetOld(record, now);
    return { kind: 'delay', delayMs: this.#delayFor(record.failures.length) };
  }

  /** Counts a failure; returns what the key pays from now on (a lockout when it just reached the limit). */
  fail(key: string): Penalty {
    const now = this.#now();
    let record = this.#keys.get(key);
    if (record) this.#keys.delete(key);
    else record = { failures: [], lockedUntil: 0 };
    // Re-inserted, so that the map's order is least recently failed first.
    this.#keys.set(key, record);
    this.#forgetOld(record, now);
    record.failures.push(now);
    if (record.failures.length >= this.#policy.lockoutAfter) {
      record.lockedUntil = now + this.#policy.lockoutMs;
      record.failures = [];
      this.#lockouts++;
      this.#bound();
      return { kind: 'locked', until: record.lockedUntil };
    }
    this.#bound();
    return { kind: 'delay', delayMs: this.#delayFor(record.failures.length) };
  }

  /** A success: the key's failures are forgotten (a lockout stands until it ends). */
  succeed(key: string): void {
    const record = this.#keys.get(key);
    if (record && record.lockedUntil <= this.#now()) this.#keys.delete(key);
  }

  /** Drops keys with nothing left to remember. */
  sweep(): void {
    const now = this.#now();
    for (const [key, record] of this.#keys) {
      this.#forgetOld(record, now);
      if (record.failures.length === 0 && record.lockedUntil <= now) this.#keys.delete(key);
    }
  }

  get tracked(): number {
    return this.#keys.size;
  }

  /** Lockouts since start, for a metric. */
  get lockouts(): number {
    return this.#lockouts;
  }

  /** The wait before the next answer, after `failures` failures: the attempt after the free ones waits baseDelayMs. */
  #delayFor(failures: number): number {
    const paid = failures - this.#policy.freeFailures + 1;
    if (paid <= 0) return 0;
    return Math.min(this.#policy.maxDelayMs, this.#policy.baseDelayMs * 2 ** Math.min(paid - 1, 30));
  }

  #forgetOld(record: Record, now: number): void {
    const since = now - this.#policy.windowMs;
    while (record.failures.length > 0 && record.failures[0]! <= since) record.failures.shift();
  }

  #bound(): void {
    const max = this.#policy.maxKeys ?? 100_000;
    while (this.#keys.size > max) {
      const oldest = this.#keys.keys().next().value;
      if (oldest === undefined) break;
      this.#keys.delete(oldest);
    }
  }
}

/** Waits `ms` (a penalty's delay); resolves at once for 0. */
export function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}
