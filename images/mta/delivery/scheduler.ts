// The delivery side of the queue: every queued message is routed recipient by recipient, handed to
// the queue of each destination it needs, and settled when they answer — delivered recipients are
// done, refused ones are bounced, the rest are tried again with exponential backoff until the
// message's lifetime is over, when they are bounced too (RFC 3464 DSN, status 4.4.7).
//
// What is done is written to the message's state file before the next try, so a restart neither
// loses a recipient nor (in the common case) delivers one twice.
import type { Logger } from 'pino';
import { describeError } from '../../lib/errors.ts';
import { parseMailbox } from '../../lib/mail/address.ts';
import { buildBounce, type FailedRecipient } from '../core/dsn.ts';
import { freshState, newQueueId, type DeliveryState, type Envelope } from '../core/envelope.ts';
import {
  planAttempt,
  settleAttempt,
  type PlannedRecipient,
  type RecipientOutcome,
} from '../core/delivery-plan.ts';
import type { RetryPolicy } from '../core/retry-schedule.ts';
import type { Destination, RecipientRouter } from '../core/routing.ts';
import type { MtaMetrics } from '../metrics.ts';
import type { Spool, SpooledMessage } from '../spool/spool.ts';
import { DestinationQueue } from './destination-queue.ts';
import type { NextHopConnection } from './next-hop-connection.ts';

export interface SchedulerOptions {
  role: string;
  hostname: string;
  spool: Spool;
  router: RecipientRouter;
  retry: RetryPolicy;
  concurrency: number;
  connect: (destination: Destination) => Promise<NextHopConnection>;
  logger: Logger;
  metrics: MtaMetrics;
  /** How long an idle connection to a next hop stays open. */
  idleMs?: number;
  /** At most this many messages are being routed and sent at once; the rest wait their turn. */
  maxActive?: number;
  now?: () => number;
}

interface QueueEntry {
  message: SpooledMessage;
  state: DeliveryState;
  timer: NodeJS.Timeout | undefined;
  running: boolean;
  /** Became due while an attempt was running: start another when it ends. */
  dueAgain: boolean;
  /** A state file exists beside the message (written after a failed attempt, or found at start). */
  hasState: boolean;
}

export class DeliveryScheduler {
  readonly #o: SchedulerOptions;
  readonly #now: () => number;
  readonly #entries = new Map<string, QueueEntry>();
  readonly #destinations = new Map<string, DestinationQueue>();
  readonly #ready: QueueEntry[] = [];
  readonly #settled = new Set<() => void>();
  #active = 0;
  #stopping = false;

  constructor(options: SchedulerOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** Queue depth and the oldest arrival, for metrics. */
  stats(): { depth: number; oldestArrival: number | undefined } {
    let oldest: number | undefined;
    for (const e of this.#entries.values()) {
      if (oldest === undefined || e.message.envelope.arrivedAt < oldest)
        oldest = e.message.envelope.arrivedAt;
    }
    return { depth: this.#entries.size, oldestArrival: oldest };
  }

  /** A message now in the spool: freshly received, a bounce, or read back at start. */
  add(message: SpooledMessage, state?: DeliveryState): void {
    const entry: QueueEntry = {
      message,
      state: state ?? freshState(this.#now()),
      timer: undefined,
      running: false,
      dueAgain: false,
      hasState: state !== undefined,
    };
    this.#entries.set(message.envelope.id, entry);
    this.#schedule(entry);
  }

  /** Stops starting attempts, and waits up to `graceMs` for the running ones; the queue stays on disk. */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    for (const entry of this.#entries.values()) clearTimeout(entry.timer);
    this.#ready.length = 0;
    const deadline = this.#now() + graceMs;
    while (this.#active > 0 && this.#now() < deadline) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.#settled.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, Math.max(0, deadline - this.#now()));
        this.#settled.add(wake);
      });
    }
    for (const queue of this.#destinations.values()) queue.close();
  }

  /** Resolves when nothing is being delivered and no message is due (for tests). */
  get activeAttempts(): number {
    return this.#active;
  }

  #schedule(entry: QueueEntry): void {
    if (this.#stopping) return;
    clearTimeout(entry.timer);
    const delay = Math.max(0, entry.state.nextAttemptAt - this.#now());
    if (delay === 0) {
      this.#enqueueReady(entry);
      return;
    }
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      this.#enqueueReady(entry);
    }, delay);
    entry.timer.unref();
  }

  #enqueueReady(entry: QueueEntry): void {
    if (this.#stopping) return;
    if (entry.running) {
      entry.dueAgain = true;
      return;
    }
    if (this.#active < (this.#o.maxActive ?? 2000)) {
      void this.#attempt(entry);
    } else {
      this.#ready.push(entry);
    }
  }

  async #attempt(entry: QueueEntry): Promise<void> {
    entry.running = true;
    this.#active++;
    const { envelope } = entry.message;
    const log = this.#o.logger.child({ queueId: envelope.id });
    try {
      // Routing asks the directory (I/O); what to do with the answers is core/delivery-plan.ts.
      const recipients: PlannedRecipient[] = [];
      for (const original of envelope.recipients) {
        const parsed = parseMailbox(original, { smtpUtf8: true });
        recipients.push(
          parsed.ok
            ? { original, leaves: await this.#o.router.resolve(parsed.value) }
            : { original, problem: parsed.problem },
        );
      }
      const { groups, outcomes, labels } = planAttempt(recipients, entry.state.done);
      const results = await Promise.all(
        [...groups].map(([key, group]) =>
          this.#queueFor(key, group.destination).submit({
            envelope: {
              from: envelope.sender,
              to: group.recipients,
              eightBit: envelope.bodyType === '8bitmime',
              size: entry.message.size,
            },
            body: () => entry.message.content ?? this.#o.spool.openBody(entry.message),
          }),
        ),
      );
      outcomes.push(...results.flat());
      await this.#settle(entry, outcomes, labels, log);
    } catch (error) {
      // The spool could not be written or read: keep the message, and try again later.
      log.error({ err: describeError(error) }, 'delivery attempt failed');
      entry.state.nextAttemptAt = this.#now() + this.#o.retry.initialMs;
      this.#schedule(entry);
    } finally {
      entry.running = false;
      this.#active--;
      if (entry.dueAgain) {
        entry.dueAgain = false;
        if (this.#entries.has(envelope.id)) this.#enqueueReady(entry);
      }
      for (const wake of [...this.#settled]) wake();
      const next = this.#ready.shift();
      if (next && !this.#stopping) void this.#attempt(next);
    }
  }

  async #settle(
    entry: QueueEntry,
    outcomes: RecipientOutcome[],
    labels: Map<string, string>,
    log: Logger,
  ): Promise<void> {
    const { envelope } = entry.message;
    const now = this.#now();
    const role = this.#o.role;
    const settlement = settleAttempt({
      state: entry.state,
      outcomes,
      arrivedAt: envelope.arrivedAt,
      now,
      retry: this.#o.retry,
    });
    const destination = (address: string) => labels.get(address) ?? 'none';
    const fields = (o: RecipientOutcome) => ({
      rcpt: o.address,
      destination: destination(o.address),
      reply: o.diagnostic,
      status: o.enhanced,
    });
    for (const o of settlement.delivered) {
      this.#o.metrics.recipients.inc({ role, destination: destination(o.address), outcome: 'delivered' });
      this.#o.metrics.deliveryDelay.observe(
        { role, destination: destination(o.address) },
        (now - envelope.arrivedAt) / 1000,
      );
      log.info({ ...fields(o), delayMs: now - envelope.arrivedAt }, 'delivered');
    }
    for (const o of outcomes) {
      if (o.status !== 'failed') continue;
      this.#o.metrics.recipients.inc({ role, destination: destination(o.address), outcome: 'bounced' });
      log.warn(fields(o), 'delivery failed for good');
    }
    if (settlement.kind === 'retry') {
      for (const o of settlement.deferred) {
        this.#o.metrics.recipients.inc({ role, destination: destination(o.address), outcome: 'deferred' });
        log.info(fields(o), 'delivery deferred');
      }
      if (settlement.bounced.length > 0) await this.#bounce(entry, settlement.bounced, log);
      entry.state = settlement.state;
      await this.#o.spool.writeState(envelope.id, entry.state);
      entry.hasState = true;
      // A message that waits for a retry waits on disk, not in memory.
      entry.message = { ...entry.message, content: undefined };
      log.info(
        { failures: entry.state.failures, retryInMs: entry.state.nextAttemptAt - now },
        'will try again',
      );
      this.#schedule(entry);
      return;
    }
    if (settlement.expired.length > 0) {
      for (const o of settlement.expired)
        this.#o.metrics.recipients.inc({ role, destination: destination(o.address), outcome: 'bounced' });
      log.warn({ recipients: settlement.expired.length }, 'message expired');
    }
    if (settlement.bounced.length > 0) await this.#bounce(entry, settlement.bounced, log);
    await this.#o.spool.remove(envelope.id, entry.hasState);
    this.#entries.delete(envelope.id);
    log.debug('removed from the queue');
  }

  async #bounce(entry: QueueEntry, recipients: FailedRecipient[], log: Logger): Promise<void> {
    const { envelope } = entry.message;
    if (envelope.sender === '') {
      // A bounce that cannot be delivered is dropped: bouncing it would loop (RFC 5321 section 4.5.5).
      log.warn(
        { recipients: recipients.map((r) => r.address) },
        'undeliverable message from the null sender dropped',
      );
      return;
    }
    const now = this.#now();
    const bounceEnvelope: Envelope = {
      id: newQueueId(now),
      sender: '',
      recipients: [envelope.sender],
      arrivedAt: now,
      bodyType: '8bitmime',
      smtpUtf8: /[^\p{ASCII}]/u.test(envelope.sender),
      client: { address: '127.0.0.1', helo: this.#o.hostname },
    };
    const content = buildBounce({
      reportingMta: this.#o.hostname,
      queueId: envelope.id,
      sender: envelope.sender,
      arrivalDate: new Date(envelope.arrivedAt),
      now: new Date(now),
      recipients,
      original: await this.#o.spool.readHead(entry.message),
    });
    const stored = await this.#o.spool.store(bounceEnvelope, content);
    log.info({ bounceId: bounceEnvelope.id, to: envelope.sender }, 'bounce queued');
    this.add(stored);
  }

  #queueFor(key: string, destination: Destination): DestinationQueue {
    let queue = this.#destinations.get(key);
    if (!queue) {
      // One queue per remote domain adds up; forget the ones with nothing to do.
      if (this.#destinations.size >= 256) {
        for (const [k, q] of this.#destinations)
          if (q.workers === 0 && q.pending === 0) this.#destinations.delete(k);
      }
      queue = new DestinationQueue({
        destination,
        concurrency: this.#o.concurrency,
        idleMs: this.#o.idleMs ?? 2000,
        connect: this.#o.connect,
        onConnectionError: (error) =>
          this.#o.logger.warn({ destination: key, err: describeError(error) }, 'cannot reach next hop'),
      });
      this.#destinations.set(key, queue);
    }
    return queue;
  }
}
