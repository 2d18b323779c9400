// The store's side of the handback (images/lib/contract/handback.ts): after LOGOUT the connection
// goes back to the MMP, which logs its next user in on it instead of connecting anew (a connect, an
// accept and two closes a session were a sixth of the MMP's CPU and a fifth of the store's:
// docs/performance.md, MMP, twelfth round).
//
// The MMP splices the client to the store without parsing, so it cannot see the client's LOGOUT;
// the store tells it in the stream, in a way no one else can: the MMP's ID names two nonces before
// it logs in (`x-mtopo-handback` "MARKER RESYNC"), believed once its proxy login succeeds. At
// LOGOUT the store answers BYE and OK, then `* X-MTOPO-HANDBACK MARKER`, ends the IMAP session
// without closing the connection, and drops every byte until RESYNC and CRLF: what the client sent
// behind its LOGOUT reached the store before the MMP, having seen the marker, stopped reading the
// client and sent RESYNC. Then a new session greets. No client learns the resync nonce, nor a
// marker it could still use (each is used once), and a message cannot carry what its sender does
// not know, so neither can be forged from the client's side.
//
// Never for a compressed session (the MMP cannot read a deflated stream), and bounded: the
// connection closes past `handbackDiscardBytes` dropped or the pre-login timeout.

import { resyncLine } from '../../lib/contract/handback.ts';

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
    this.#needle = Buffer.from(resyncLine(resync));
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
