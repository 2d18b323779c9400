// The maildrop a POP3 session sees (RFC 1939 §5): INBOX as it was at login, numbered from 1, with
// the session's own deletion marks. Pure; the session commits the marks as one expunge at QUIT.
import type { MessageMeta } from '../mailbox/api.ts';

export class Maildrop {
  readonly #messages: readonly MessageMeta[];
  readonly #deleted = new Set<number>();
  readonly #retrieved = new Set<number>();
  readonly uidValidity: number;

  constructor(messages: readonly MessageMeta[], uidValidity: number) {
    this.#messages = messages;
    this.uidValidity = uidValidity;
  }

  /** A message number that names a message not marked deleted (RFC 1939 §5: "may not refer to a deleted message"). */
  exists(n: number): boolean {
    return n >= 1 && n <= this.#messages.length && !this.#deleted.has(n);
  }

  message(n: number): MessageMeta {
    return this.#messages[n - 1]!;
  }

  /** Message numbers of the messages not marked deleted, in order. */
  live(): number[] {
    const out: number[] = [];
    for (let n = 1; n <= this.#messages.length; n++) if (!this.#deleted.has(n)) out.push(n);
    return out;
  }

  /** STAT: count and octets of the messages not marked deleted. */
  stat(): { count: number; octets: number } {
    let octets = 0;
    const live = this.live();
    for (const n of live) octets += this.message(n).size;
    return { count: live.length, octets };
  }

  /** UIDL (RFC 1939 §7): UIDVALIDITY.UID is unique in the maildrop and stable across sessions. */
  uniqueId(n: number): string {
    return `${this.uidValidity}.${this.message(n).uid}`;
  }

  markDeleted(n: number): void {
    this.#deleted.add(n);
  }

  markRetrieved(n: number): void {
    this.#retrieved.add(n);
  }

  reset(): void {
    this.#deleted.clear();
  }

  /** What QUIT commits: UIDs to expunge, and UIDs retrieved and kept (they become \Seen, as Dovecot does). */
  changes(): { expunge: number[]; seen: number[] } {
    const expunge = [...this.#deleted].map((n) => this.message(n).uid);
    const seen = [...this.#retrieved].filter((n) => !this.#deleted.has(n)).map((n) => this.message(n).uid);
    return { expunge, seen };
  }
}

/**
 * How many bytes of a message TOP sends (RFC 1939 §7): the header, the blank line, and `lines`
 * lines of the body. Returns undefined while `head` does not yet hold enough of the message.
 */
export function topLength(head: Buffer, lines: number, complete: boolean): number | undefined {
  const headerEnd = head.indexOf('\r\n\r\n');
  if (headerEnd < 0) return complete ? head.length : undefined;
  let at = headerEnd + 4;
  for (let i = 0; i < lines; i++) {
    const lf = head.indexOf('\n', at);
    if (lf < 0) return complete ? head.length : undefined;
    at = lf + 1;
  }
  return at;
}
