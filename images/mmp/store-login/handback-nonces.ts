// The MMP's nonces for the store's handback (images/lib/contract/handback.ts), one pair a login:
// keyed hashes of a number, with a key made at start, so that a proxied session (of which an MMP
// holds thousands, most idle for hours) keeps a number, not two strings; they are worked out
// again only when the store's marker line may have come and at the handback itself.
import { hash, randomBytes } from 'node:crypto';
import type { HandbackNonces } from '../../lib/contract/handback.ts';

const KEY = randomBytes(32).toString('hex');
let last = 0;

/** A new login's handback number (never 0, which means none). */
export function nextHandbackId(): number {
  return ++last;
}

/** Each nonce's length in hex digits (128 bits). */
export const NONCE_DIGITS = 32;

export function handbackNonces(id: number): HandbackNonces {
  return {
    marker: hash('sha256', `${KEY}marker${id}`, 'hex').slice(0, NONCE_DIGITS),
    resync: hash('sha256', `${KEY}resync${id}`, 'hex').slice(0, NONCE_DIGITS),
  };
}
