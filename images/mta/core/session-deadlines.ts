// When a slow client has had its time (slowloris: one byte every 58 s held a session for minutes,
// and a thousand of them filled every connection slot). Three deadlines, as Postfix's smtpd_timeout
// and Exim's smtp_receive_timeout:
//
//   command   a whole command line must arrive within `commandMs` of the previous reply — a byte
//             now and then does not reset it; when the listener is busy (BUSY_FRACTION full) the
//             shorter `busyCommandMs` applies, so that idle and slow sessions give way to senders;
//   data      the whole message, from 354 to the final dot, within `dataMs`;
//   data-rate after the first `rateGraceMs` of DATA, on average at least `minBytesPerSecond`.
//
// Time spent waiting for us (a directory lookup, the fsync before 250) never counts against the
// client (RFC 5321 section 4.5.3.2 has the client wait minutes for those).

export interface DeadlineLimits {
  commandMs: number;
  busyCommandMs: number;
  dataMs: number;
  minBytesPerSecond: number;
  rateGraceMs: number;
}

export type SessionPhase =
  /** The client owes us a command; `since` is when our last reply (or the greeting) went out. */
  | { kind: 'command'; since: number }
  /** The client is sending a message: since the 354, bytes so far. */
  | { kind: 'data'; since: number; bytes: number }
  /** We owe the client an answer. */
  | { kind: 'waiting' };

export type Deadline = 'command' | 'data' | 'data-rate';

export function overdue(
  phase: SessionPhase,
  now: number,
  busy: boolean,
  limits: DeadlineLimits,
): Deadline | undefined {
  switch (phase.kind) {
    case 'waiting':
      return undefined;
    case 'command':
      return now - phase.since > (busy ? limits.busyCommandMs : limits.commandMs) ? 'command' : undefined;
    case 'data': {
      const elapsed = now - phase.since;
      if (elapsed > limits.dataMs) return 'data';
      if (limits.minBytesPerSecond > 0 && elapsed > limits.rateGraceMs) {
        if (phase.bytes / (elapsed / 1000) < limits.minBytesPerSecond) return 'data-rate';
      }
      return undefined;
    }
  }
}
