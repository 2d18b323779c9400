// A work queue keyed by object, in the manner of client-go's: a key waiting in the queue is held
// once however often it is added; a key being worked on is never handed to a second worker, and if
// it is added meanwhile it runs again afterwards; failures are retried with per-key exponential
// backoff, and every retry also passes a global token bucket so a storm of failures cannot flood
// the API server.
import { backoffDelayMs } from '../../../images/lib/contract/backoff.ts';

export interface WorkQueueOptions {
  /** First retry delay; doubles with each consecutive failure of the same key. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Global retry rate (tokens per second) and burst. */
  retriesPerSecond: number;
  retryBurst: number;
  /** Milliseconds from a monotonic clock (default performance.now()): the wall clock can step back. */
  now?: () => number;
}

/**
 * 'retry' backs the key off. There is no "requeue after": nothing a site waits for is time-bound
 * (rollouts, load-balancer addresses and certificates all arrive as watch events), so a timed
 * requeue would only be a slower resync.
 */
export type Handler = (key: string) => Promise<'done' | 'retry'>;

export class WorkQueue {
  readonly #options: Required<WorkQueueOptions>;
  readonly #queue: string[] = [];
  readonly #queued = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #waiters: (() => void)[] = [];
  #tokens: number;
  #lastRefill: number;
  #closed = false;
  retries = 0;

  constructor(options: WorkQueueOptions) {
    this.#options = { now: () => performance.now(), ...options };
    this.#tokens = options.retryBurst;
    this.#lastRefill = this.#options.now();
  }

  get depth(): number {
    return this.#queue.length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  add(key: string): void {
    if (this.#closed) return;
    if (this.#processing.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    this.#queued.add(key);
    this.#queue.push(key);
    this.#waiters.shift()?.();
  }

  addAfter(key: string, delayMs: number): void {
    if (this.#closed) return;
    if (delayMs <= 0) return this.add(key);
    const existing = this.#timers.get(key);
    if (existing) clearTimeout(existing);
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.#timers.set(key, timer);
  }

  /** The delay before the next retry of a key: its own backoff, or longer if the bucket is empty. */
  retryDelay(key: string): number {
    const failures = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, failures);
    const backoff = backoffDelayMs(failures, {
      initialMs: this.#options.baseDelayMs,
      maxMs: this.#options.maxDelayMs,
    });
    const now = this.#options.now();
    // Never less than nothing: a clock that stepped back would otherwise drain the bucket and hold
    // every retry for as long as the step (the wall clock does this when NTP corrects a busy VM).
    const elapsedMs = Math.max(0, now - this.#lastRefill);
    this.#tokens = Math.min(
      this.#options.retryBurst,
      this.#tokens + (elapsedMs / 1000) * this.#options.retriesPerSecond,
    );
    this.#lastRefill = now;
    this.#tokens -= 1;
    const bucket = this.#tokens >= 0 ? 0 : (-this.#tokens / this.#options.retriesPerSecond) * 1000;
    return Math.max(backoff, bucket);
  }

  addRateLimited(key: string): void {
    this.retries++;
    this.addAfter(key, this.retryDelay(key));
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }

  async #next(): Promise<string | undefined> {
    // After shutdown nothing more is handed out, even what still waits: a stopping operator ends
    // the keys in hand and leaves the rest to the next leader (draining a hundred waiting sites
    // took minutes under load, past any pod's grace period).
    if (this.#closed) return undefined;
    while (this.#queue.length === 0) {
      if (this.#closed) return undefined;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    if (this.#closed) return undefined;
    const key = this.#queue.shift() as string;
    this.#queued.delete(key);
    this.#processing.add(key);
    return key;
  }

  #done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.delete(key)) this.add(key);
  }

  /** Runs `workers` loops until shutdown; each key goes to one worker at a time. */
  async run(
    workers: number,
    handler: Handler,
    onError: (key: string, error: unknown) => void,
  ): Promise<void> {
    const loop = async () => {
      for (let key = await this.#next(); key !== undefined; key = await this.#next()) {
        try {
          const result = await handler(key);
          if (result === 'done') this.forget(key);
          else this.addRateLimited(key);
        } catch (error) {
          onError(key, error);
          this.addRateLimited(key);
        } finally {
          this.#done(key);
        }
      }
    };
    await Promise.all(Array.from({ length: workers }, loop));
  }

  shutdown(): void {
    this.#closed = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    for (const wake of this.#waiters) wake();
    this.#waiters = [];
  }
}
