// Every limit of the MTA that is not in its config, with the reason for its number (the habit of
// ImapFlow's limits module). The configurable ones — size, recipients, rates, timeouts, error and
// login limits — are in the contract (images/lib/contract/mta.ts), where each default says why; the
// functions here derive what depends on them.
import type { PenaltyPolicy } from '../lib/auth/penalty-box.ts';
import type { MtaLimits, MtaRole } from '../lib/contract/mta.ts';

/**
 * How long a client must wait for the greeting; input before it is refused (421). The world-facing
 * tiers keep smtp-server's 100 ms, which catches blind pipelining by spambots; the internal tiers
 * are reached only by our own MTAs through the firewall, and a short window keeps connection setup
 * cheap for them (see receiving/mta-smtp-server.ts).
 */
export const GREETING_DELAY_MS: Record<MtaRole, number> = {
  internet: 100,
  outbound: 100,
  inbound: 5,
  gateway: 5,
};

/** A listener this full (of its maxConnections) is "busy": command timeouts drop to the busy value. */
export const BUSY_FRACTION = 0.75;

/** DATA is judged for its rate only after this long, so a slow start (TCP slow start, a big header) is not punished. */
export const DATA_RATE_GRACE_MS = 30_000;

/** How often the session deadlines are looked at; a deadline is kept to within this. */
export const DEADLINE_TICK_MS = 1000;

/**
 * Refused recipients beyond `recipientErrorsBeforeDelay` cost this much each, doubling (capped at
 * MAX_RECIPIENT_ERROR_DELAY_MS): a harvester's thousand guesses then take minutes, not a second,
 * while a sender with a typo or two is not slowed at all.
 */
export const RECIPIENT_ERROR_DELAY_MS = 500;
export const MAX_RECIPIENT_ERROR_DELAY_MS = 8000;

/**
 * The same client, across sessions: after this many refused recipients within 10 minutes it is
 * refused at connect for 10 minutes. A harvester that reconnects after each 421 gains nothing.
 */
export function recipientErrorPolicy(limits: MtaLimits): PenaltyPolicy {
  return {
    freeFailures: limits.recipientErrorsBeforeDelay,
    baseDelayMs: RECIPIENT_ERROR_DELAY_MS,
    maxDelayMs: MAX_RECIPIENT_ERROR_DELAY_MS,
    lockoutAfter: limits.recipientErrorsPerSession * 3,
    lockoutMs: 10 * 60_000,
    windowMs: 10 * 60_000,
  };
}

/**
 * Failed logins, per client address and per account: `authFailuresBeforeDelay` (2) answered at once
 * (typos), then each next answer waits 1 s, doubling to 16 s; locked for 15 minutes at `authFailuresBeforeLockout`. At the default of 10 a guesser gets 10
 * passwords per 15 minutes per account and per address instead of over a thousand a second.
 */
export function authFailurePolicy(limits: MtaLimits): PenaltyPolicy {
  return {
    freeFailures: limits.authFailuresBeforeDelay,
    baseDelayMs: 1000,
    maxDelayMs: 16_000,
    lockoutAfter: limits.authFailuresBeforeLockout,
    lockoutMs: 15 * 60_000,
    windowMs: 15 * 60_000,
  };
}

/**
 * Free space the queue keeps for mail already accepted (its state files, its bounces): new mail gets
 * 452 4.3.1 below it. Four of the largest messages, and at least 64 MiB, unless the config says.
 */
export function minFreeSpoolBytes(limits: MtaLimits): number {
  return limits.minFreeSpoolBytes ?? Math.max(64 * 1024 * 1024, 4 * limits.maxMessageBytes);
}

/** How long free space is believed before it is measured again (statfs is cheap, but not per RCPT). */
export const FREE_SPACE_CACHE_MS = 1000;

/** How long the edge believes the inbound tier's answer about a recipient. */
export const RECIPIENT_PROBE_CACHE_MS = 60_000;

/** An idle connection to a next hop is kept this long for the next message. */
export const NEXT_HOP_IDLE_MS = 2000;

/** Messages routed and sent at once; the rest wait in memory (the queue itself is on disk). */
export const MAX_ACTIVE_DELIVERIES = 2000;

/** Destination queues kept before idle ones are forgotten (one per remote domain adds up). */
export const MAX_DESTINATION_QUEUES = 256;

/** smtp-server's time to let a session finish after close() before it is cut. */
export const SMTP_CLOSE_TIMEOUT_MS = 1000;
