// Per-client limits, kept in memory per replica (the limits in the API are "per replica"): how many
// connections each client address has open, and a token bucket per client that lets it spend a
// burst of its whole minute's allowance, then one unit every 60/limit seconds (messages for the MTA,
// logins for the MMP).

export class ClientConnections {
  readonly #counts = new Map<string, number>();

  /** Counts one more connection and returns how many the client now has. */
  open(client: string): number {
    const n = (this.#counts.get(client) ?? 0) + 1;
    this.#counts.set(client, n);
    return n;
  }

  close(client: string): void {
    const n = (this.#counts.get(client) ?? 0) - 1;
    if (n <= 0) this.#counts.delete(client);
    else this.#counts.set(client, n);
  }

  count(client: string): number {
    return this.#counts.get(client) ?? 0;
  }
}

export class ClientRateLimiter {
  readonly #perMinute: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(perMinute: number, now: () => number = Date.now) {
    this.#perMinute = perMinute;
    this.#now = now;
  }

  /** Takes one message from the client's allowance; false when it has none left. */
  take(client: string): boolean {
    const now = this.#now();
    const bucket = this.#buckets.get(client) ?? { tokens: this.#perMinute, at: now };
    bucket.tokens = Math.min(this.#perMinute, bucket.tokens + ((now - bucket.at) * this.#perMinute) / 60_000);
    bucket.at = now;
    this.#buckets.set(client, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Forgets clients whose allowance is full again, so the map does not grow without bound. */
  sweep(): void {
    const now = this.#now();
    for (const [client, bucket] of this.#buckets) {
      if (bucket.tokens + ((now - bucket.at) * this.#perMinute) / 60_000 >= this.#perMinute)
        this.#buckets.delete(client);
    }
  }

  get tracked(): number {
    return this.#buckets.size;
  }
}
