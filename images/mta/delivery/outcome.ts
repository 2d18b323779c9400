// What became of one recipient in one delivery attempt, and how a reply or an error maps onto it.
// 2xx delivered; 5xx failed for good (the sender gets a bounce); everything else — 4xx, a refused
// connection, a timeout, TLS that could not be set up — deferred for a later try.

import type { OutcomeStatus, RecipientOutcome } from '../core/delivery-plan.ts';

export type { OutcomeStatus, RecipientOutcome } from '../core/delivery-plan.ts';

const ENHANCED = /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})\b/;

export function outcomeFromReply(
  address: string,
  code: number,
  reply: string,
  remoteMta: string,
): RecipientOutcome {
  const line = reply.replace(/\s*\r?\n\s*/g, ' ').trim();
  const enhanced = ENHANCED.exec(line)?.[1] ?? `${Math.floor(code / 100)}.0.0`;
  const status: OutcomeStatus =
    code >= 200 && code < 300 ? 'delivered' : code >= 500 && code < 600 ? 'failed' : 'deferred';
  return {
    address,
    status,
    enhanced: status === 'deferred' && enhanced.startsWith('5') ? `4${enhanced.slice(1)}` : enhanced,
    diagnostic: line,
    remoteMta,
  };
}

/** A failure before any reply about this recipient: always temporary. */
export function deferredOutcome(
  address: string,
  diagnostic: string,
  enhanced = '4.4.1',
  remoteMta?: string,
): RecipientOutcome {
  return { address, status: 'deferred', enhanced, diagnostic, ...(remoteMta ? { remoteMta } : {}) };
}

export function failedOutcome(
  address: string,
  diagnostic: string,
  enhanced: string,
  remoteMta?: string,
): RecipientOutcome {
  return { address, status: 'failed', enhanced, diagnostic, ...(remoteMta ? { remoteMta } : {}) };
}
