// Messages waiting for one destination (a store, the gateway, a smarthost, one remote domain's MX
// hosts), sent over at most `concurrency` connections that are kept open while there is work and
// reused from message to message. When a connection cannot be opened and no other connection to
// the destination is up, everything waiting for it is deferred at once rather than each message
// waiting out its own connect timeout.
import type { Readable } from 'node:stream';
import { describeError } from '../../lib/errors.ts';
import type { Destination } from '../core/routing.ts';
import type { NextHopConnection, OutgoingEnvelope } from './next-hop-connection.ts';
import { deferredOutcome, failedOutcome, type RecipientOutcome } from './outcome.ts';

/** A destination that cannot be reached: for now (deferred) or for good (a null MX, no such domain). */
export class DestinationError extends Error {
  readonly permanent: boolean;
  readonly enhanced: string;

  constructor(message: string, options: { permanent: boolean; enhanced: string; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.permanent = options.permanent;
    this.enhanced = options.enhanced;
  }
}

export interface DeliveryJob {
  envelope: OutgoingEnvelope;
  body: () => Readable | Buffer;
}

interface QueuedJob extends DeliveryJob {
  resolve: (outcomes: RecipientOutcome[]) => void;
  retried: boolean;
}

export interface DestinationQueueOptions {
  destination: Destination;
  concurrency: number;
  /** How long an idle connection waits for more work before it says QUIT. */
  idleMs: number;
  connect: (destination: Destination) => Promise<NextHopConnection>;
  onConnectionError?: (error: unknown) => void;
}

export class DestinationQueue {
  readonly destination: Destination;
  readonly #options: DestinationQueueOptions;
  readonly #jobs: QueuedJob[] = [];
  readonly #idle: (() => void)[] = [];
  readonly #connections = new Set<NextHopConnection>();
  #workers = 0;
  #closing = false;

  constructor(options: DestinationQueueOptions) {
    this.destination = options.destination;
    this.#options = options;
  }

  get pending(): number {
    return this.#jobs.length;
  }

  get workers(): number {
    return this.#workers;
  }

  submit(job: DeliveryJob): Promise<RecipientOutcome[]> {
    return new Promise((resolve) => {
      this.#jobs.push({ ...job, resolve, retried: false });
      const waiting = this.#idle.shift();
      if (waiting) waiting();
      else if (this.#workers < this.#options.concurrency) void this.#work();
    });
  }

  /** Closes idle connections; busy ones finish their message first. */
  close(): void {
    this.#closing = true;
    for (const wake of this.#idle.splice(0)) wake();
  }

  async #work(): Promise<void> {
    this.#workers++;
    let connection: NextHopConnection | undefined;
    try {
      for (;;) {
        const job = this.#jobs.shift() ?? (await this.#waitForJob());
        if (!job) return;
        if (!connection?.usable) {
          if (connection) this.#drop(connection);
          try {
            connection = await this.#options.connect(this.destination);
            this.#connections.add(connection);
          } catch (error) {
            connection = undefined;
            this.#options.onConnectionError?.(error);
            this.#failJob(job, error);
            // Nobody else reaches the destination either: what waits for it would only fail the same way.
            if (this.#connections.size === 0)
              for (const other of this.#jobs.splice(0)) this.#failJob(other, error);
            return;
          }
        }
        const result = await connection.send(job.envelope, job.body());
        if (result.retryable && !job.retried) {
          // The server had closed the idle connection; nothing was sent. Once more on a new one.
          this.#drop(connection);
          connection = undefined;
          this.#jobs.unshift({ ...job, retried: true });
          continue;
        }
        if (connection.usable && result.outcomes.some((o) => o.status !== 'delivered'))
          await connection.reset();
        job.resolve(result.outcomes);
      }
    } finally {
      this.#workers--;
      if (connection) this.#drop(connection);
    }
  }

  #waitForJob(): Promise<QueuedJob | undefined> {
    if (this.#closing) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(this.#jobs.shift());
      };
      const timer = setTimeout(() => {
        const i = this.#idle.indexOf(wake);
        if (i >= 0) this.#idle.splice(i, 1);
        resolve(this.#jobs.shift());
      }, this.#options.idleMs);
      this.#idle.push(wake);
    });
  }

  #failJob(job: QueuedJob, error: unknown): void {
    const message = describeError(error);
    job.resolve(
      job.envelope.to.map((address) =>
        error instanceof DestinationError && error.permanent
          ? failedOutcome(address, message, error.enhanced)
          : deferredOutcome(address, message, error instanceof DestinationError ? error.enhanced : '4.4.1'),
      ),
    );
  }

  #drop(connection: NextHopConnection): void {
    this.#connections.delete(connection);
    connection.close();
  }
}
