// What the queue keeps about a message besides its content: the envelope (RFC 5321 section 2.3.1,
// sender and recipients, which the message headers need not match) and the delivery state. Both are
// JSON, validated when read back, so a damaged file is noticed instead of misdelivered.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

export const envelopeSchema = z.strictObject({
  id: z.string().regex(/^[0-9A-Z]+$/),
  /** '' is the null sender of a bounce. */
  sender: z.string(),
  recipients: z.array(z.string().min(1)).min(1),
  arrivedAt: z.number(),
  bodyType: z.enum(['7bit', '8bitmime']),
  smtpUtf8: z.boolean(),
  client: z.strictObject({ address: z.string(), helo: z.string(), user: z.string().optional() }),
});

export type Envelope = z.output<typeof envelopeSchema>;

export const deliveryStateSchema = z.strictObject({
  /** Delivery attempts that ended with something still to do. */
  failures: z.int().min(0),
  nextAttemptAt: z.number(),
  /** Final addresses (after forwarding) that were delivered or given up on (and bounced). */
  done: z.array(z.string()),
  /** The last error per final address still pending, for the bounce when the message expires. */
  lastErrors: z.record(
    z.string(),
    z.strictObject({ status: z.string(), diagnostic: z.string(), remoteMta: z.string().optional() }),
  ),
});

export type DeliveryState = z.output<typeof deliveryStateSchema>;

export function freshState(now: number): DeliveryState {
  return { failures: 0, nextAttemptAt: now, done: [], lastErrors: {} };
}

/**
 * Queue ids sort by arrival (the time in base 36 first) and are unique without coordination
 * between replicas (40 random bits after it). Upper case and digits only: safe as file names.
 */
export function newQueueId(now = Date.now()): string {
  return `${now.toString(36).toUpperCase().padStart(9, '0')}${randomBytes(5).toString('hex').toUpperCase()}`;
}

const MAGIC = 'MTOPO1 ';

/** The first line of a spool file: the envelope, before the message bytes. */
export function encodeEnvelopeLine(envelope: Envelope): Buffer {
  return Buffer.from(`${MAGIC}${JSON.stringify(envelope)}\n`, 'utf8');
}

export function decodeEnvelopeLine(data: Buffer): { envelope: Envelope; bodyOffset: number } {
  const end = data.indexOf(0x0a);
  if (end < 0 || data.subarray(0, MAGIC.length).toString('latin1') !== MAGIC) {
    throw new Error('not a spool file: the envelope line is missing');
  }
  const json: unknown = JSON.parse(data.subarray(MAGIC.length, end).toString('utf8'));
  return { envelope: envelopeSchema.parse(json), bodyOffset: end + 1 };
}
