// Mailboxes that no session has selected any more, kept loaded while their account stays open, so
// that the next SELECT of the same mailbox finds its messages in memory. A client that reconnects
// (a phone, the MMP's short sessions, a POP3 poll) selects the same mailbox again at once, and the
// first index read of a SELECT was the largest part of the store's CPU a session (the SQLite read
// runs with its caches cold: docs/performance.md, MMP twelfth round). The engine keeps a retained
// mailbox current as it does a selected one (deliveries, expunges and flag changes all go through
// it), so a retained mailbox is never stale; this class only bounds how many there are.
//
// Bounded in messages for the whole process, least recently retained out first; a mailbox larger
// than a tenth of the budget is not retained (it would push out tens of small ones).

export class RetainedMailboxes {
  readonly #entries = new Map<object, { messages: number; evict: () => void }>();
  readonly #maxMessages: number;
  #messages = 0;

  constructor(maxMessages: number) {
    this.#maxMessages = maxMessages;
  }

  /** The largest mailbox kept, in messages. */
  get maxMailboxMessages(): number {
    return Math.floor(this.#maxMessages / 10);
  }

  /**
   * Keeps `mailbox` (of `messages` messages) until `evict` is called to drop it from its engine, or
   * it is released; returns false, calling nothing, when it is too large to keep.
   */
  retain(mailbox: object, messages: number, evict: () => void): boolean {
    this.release(mailbox);
    if (messages > this.maxMailboxMessages) return false;
    this.#entries.set(mailbox, { messages, evict });
    this.#messages += messages;
    this.#trim();
    return true;
  }

  /** A retained mailbox grew or shrank (a delivery, an expunge from elsewhere). */
  resize(mailbox: object, messages: number): void {
    const entry = this.#entries.get(mailbox);
    if (!entry) return;
    if (messages > this.maxMailboxMessages) {
      this.release(mailbox);
      entry.evict();
      return;
    }
    this.#messages += messages - entry.messages;
    entry.messages = messages;
    this.#trim();
  }

  /** `mailbox` is selected again, deleted, or its account closes: no longer counted or evicted. */
  release(mailbox: object): void {
    const entry = this.#entries.get(mailbox);
    if (!entry) return;
    this.#entries.delete(mailbox);
    this.#messages -= entry.messages;
  }

  #trim(): void {
    for (const [oldest, entry] of this.#entries) {
      if (this.#messages <= this.#maxMessages) break;
      this.release(oldest);
      entry.evict();
    }
  }

  /** Mailboxes kept now, and their messages together (for tests and metrics). */
  get size(): { mailboxes: number; messages: number } {
    return { mailboxes: this.#entries.size, messages: this.#messages };
  }
}
