// The delivery scheduler's decisions as pure functions (delivery/scheduler.ts does the I/O):
//
//   planAttempt    which final addresses of a message go to which destination in this attempt —
//                  each at most once, none that is already done — and which are settled without
//                  trying (a syntax error, a routing refusal or deferral);
//   settleAttempt  what the attempt's outcomes mean for the message: who is done, who is bounced,
//                  and whether it is tried again (and when) or leaves the queue — expiring what is
//                  still pending once its lifetime is over (RFC 3464 status 4.4.7).
import type { FailedRecipient } from './dsn.ts';
import type { DeliveryState } from './envelope.ts';
import { replyLine } from './replies.ts';
import { afterFailure, type RetryPolicy } from './retry-schedule.ts';
import { destinationKey, type Destination, type ResolvedRecipient } from './routing.ts';

export type OutcomeStatus = 'delivered' | 'deferred' | 'failed';

/** What became of one final address in one attempt. */
export interface RecipientOutcome {
  address: string;
  status: OutcomeStatus;
  /** RFC 3463 status (from the reply when it had one). */
  enhanced: string;
  /** One line: the reply, or what went wrong. */
  diagnostic: string;
  /** The server that answered, when one did. */
  remoteMta?: string;
}

/** One envelope recipient, parsed — or why it could not be. */
export type PlannedRecipient =
  { original: string; leaves: readonly ResolvedRecipient[] } | { original: string; problem: string };

export interface AttemptPlan {
  /** By destination key: where to send, and to whom. */
  groups: Map<string, { destination: Destination; recipients: string[] }>;
  /** Settled without sending. */
  outcomes: RecipientOutcome[];
  /** Final address → destination label, for metrics and logs. */
  labels: Map<string, string>;
}

export function planAttempt(recipients: readonly PlannedRecipient[], done: readonly string[]): AttemptPlan {
  const finished = new Set(done.map((a) => a.toLowerCase()));
  const planned = new Set<string>();
  const plan: AttemptPlan = { groups: new Map(), outcomes: [], labels: new Map() };
  for (const r of recipients) {
    if ('problem' in r) {
      plan.outcomes.push({
        address: r.original,
        status: 'failed',
        enhanced: '5.1.3',
        diagnostic: `bad address syntax (${r.problem})`,
      });
      continue;
    }
    for (const leaf of r.leaves) {
      const route = leaf.route;
      const key = route.address.toLowerCase();
      // Two recipients forwarding to one address: it gets the message once.
      if (finished.has(key) || planned.has(key)) continue;
      planned.add(key);
      if (route.kind === 'deliver') {
        const destKey = destinationKey(route.destination);
        const group = plan.groups.get(destKey) ?? { destination: route.destination, recipients: [] };
        group.recipients.push(route.address);
        plan.groups.set(destKey, group);
        plan.labels.set(route.address, route.destination.label);
      } else {
        plan.outcomes.push({
          address: route.address,
          status: route.kind === 'refuse' ? 'failed' : 'deferred',
          enhanced: route.reply.status,
          diagnostic: `${replyLine(route.reply)} (${route.why})`,
        });
      }
    }
  }
  return plan;
}

export type Settlement =
  | {
      kind: 'retry';
      /** The state to write before the next try. */
      state: DeliveryState;
      delivered: RecipientOutcome[];
      /** To bounce now (refused for good in this attempt). */
      bounced: FailedRecipient[];
      deferred: RecipientOutcome[];
    }
  | {
      kind: 'finished';
      delivered: RecipientOutcome[];
      /** To bounce: refused for good, and (when it expired) what was still pending. */
      bounced: FailedRecipient[];
      /** Still pending when the lifetime ended (part of `bounced`, as 4.4.7). */
      expired: RecipientOutcome[];
    };

export function settleAttempt(input: {
  state: DeliveryState;
  outcomes: readonly RecipientOutcome[];
  arrivedAt: number;
  now: number;
  retry: RetryPolicy;
}): Settlement {
  const done = new Set(input.state.done);
  const delivered: RecipientOutcome[] = [];
  const bounced: FailedRecipient[] = [];
  const deferred: RecipientOutcome[] = [];
  for (const o of input.outcomes) {
    if (o.status === 'delivered') {
      done.add(o.address);
      delivered.push(o);
    } else if (o.status === 'failed') {
      done.add(o.address);
      bounced.push({
        address: o.address,
        status: o.enhanced,
        diagnostic: o.diagnostic,
        ...(o.remoteMta ? { remoteMta: o.remoteMta } : {}),
      });
    } else {
      deferred.push(o);
    }
  }
  if (deferred.length === 0) return { kind: 'finished', delivered, bounced, expired: [] };
  const failures = input.state.failures + 1;
  const next = afterFailure({ arrivedAt: input.arrivedAt, now: input.now, failures, policy: input.retry });
  if (next.kind === 'retry') {
    return {
      kind: 'retry',
      state: {
        failures,
        nextAttemptAt: next.at,
        done: [...done],
        lastErrors: Object.fromEntries(
          deferred.map((o) => [
            o.address,
            {
              status: o.enhanced,
              diagnostic: o.diagnostic,
              ...(o.remoteMta ? { remoteMta: o.remoteMta } : {}),
            },
          ]),
        ),
      },
      delivered,
      bounced,
      deferred,
    };
  }
  // The lifetime is over: what is still pending goes back to the sender.
  for (const o of deferred) {
    bounced.push({
      address: o.address,
      status: '4.4.7',
      diagnostic: `delivery time expired; last error: ${o.diagnostic}`,
      ...(o.remoteMta ? { remoteMta: o.remoteMta } : {}),
    });
  }
  return { kind: 'finished', delivered, bounced, expired: deferred };
}
