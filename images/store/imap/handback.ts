// Handing a connection back to the MMP after LOGOUT, so that it can log the next user in on it
// instead of connecting anew (a connect, an accept and two closes a session were a sixth of the
// MMP's CPU and a fifth of the store's: docs/performance.md, MMP, twelfth round).
//
// The MMP splices the client to the store without parsing, so it cannot see the client's LOGOUT;
// the store tells it, in the stream, in a way no one else can: the MMP sends two random nonces in
// its ID before logging in (`x-mtopo-handback` "MARKER RESYNC"), believed once its proxy login
// succeeds. At LOGOUT the store answers BYE and OK, then the line `* X-MTOPO-HANDBACK MARKER`, ends
// the IMAP session without closing the connection, and discards every byte until RESYNC followed
// by CRLF: whatever the client sent behind its LOGOUT reached the store before the MMP, having
// seen the marker, stopped reading the client and sent RESYNC. Then a new session greets. A
// client never learns either nonce (the MMP does not pass the marker on), and a message cannot
// carry what its sender does not know, so neither can be forged from the client's side.
//
// Not for a compressed session (the MMP cannot read a deflated stream), and bounded: the
// discarding ends the connection past `maxDiscardBytes` or the pre-login timeout.

export const HANDBACK_CAPABILITY = 'X-MTOPO-HANDBACK';
export const HANDBACK_ID_FIELD = 'x-mtopo-handback';

export interface HandbackNonces {
  readonly marker: string;
  readonly resync: string;
}

/** 128 to 256 bits in hex: random enough that no one guesses it, short enough to scan for. */
const NONCE = /^[0-9a-f]{32,64}$/;

/** The ID field's value, "MARKER RESYNC", or undefined when it is not two distinct nonces. */
export function parseHandbackNonces(value: string): HandbackNonces | undefined {
  const parts = value.split(' ');
  if (parts.length !== 2) return undefined;
  const [marker, resync] = parts as [string, string];
  if (!NONCE.test(marker) || !NONCE.test(resync) || marker === resync) return undefined;
  return { marker, resync };
}

export function handbackLine(marker: string): Buffer {
  return Buffer.from(`* ${HANDBACK_CAPABILITY} ${marker}\r\n`);
}

/**
 * Discards a connection's input until the resync line: `push` answers what followed it once it
 * has come, 'more' before, and 'overflow' once more than `maxDiscardBytes` went by without it.
 */
export class ResyncScanner {
  readonly #needle: Buffer;
  readonly #maxDiscardBytes: number;
  /** The end of what came so far, which may hold the start of the resync line. */
  #tail = Buffer.alloc(0);
  #discarded = 0;

  constructor(resync: string, maxDiscardBytes: number) {
    this.#needle = Buffer.from(`${resync}\r\n`);
    this.#maxDiscardBytes = maxDiscardBytes;
  }

  push(chunk: Buffer): { rest: Buffer } | 'more' | 'overflow' {
    const seen = this.#tail.length > 0 ? Buffer.concat([this.#tail, chunk]) : chunk;
    const at = seen.indexOf(this.#needle);
    if (at >= 0) return { rest: seen.subarray(at + this.#needle.length) };
    this.#discarded += chunk.length;
    if (this.#discarded > this.#maxDiscardBytes) return 'overflow';
    this.#tail = Buffer.from(seen.subarray(Math.max(0, seen.length - (this.#needle.length - 1))));
    return 'more';
  }
}
