// Pure: which messages of a source folder the target folder lacks, and how a folder's name reads on
// the target. The copy must be safe to run again (and to merge with mail that reached the target
// after the mailHost change), so each message is known by a key both sides can compute from what
// IMAP reports without downloading bodies: Message-ID and RFC822.SIZE. APPEND stores the bytes as
// given, so the copy has the source's size; two different messages sharing a Message-ID (a resend,
// a list's copy) almost always differ in size. A message without a Message-ID is known by
// INTERNALDATE and size instead, both of which the copy carries over. Keys are counted, not just
// looked up: a source holding one message twice gets two copies, a re-run none.

export interface MessageSummary {
  uid: number;
  /** The Message-ID header as the server's ENVELOPE gives it; absent when the message has none. */
  messageId?: string | undefined;
  size: number;
  internalDate: Date;
  flags: readonly string[];
}

export function messageKey(message: MessageSummary): string {
  const id = message.messageId?.trim();
  return id ? `id ${id} ${message.size}` : `date ${message.internalDate.getTime()} ${message.size}`;
}

/** The source's messages the target lacks, in the source's order (oldest first by UID). */
export function messagesToCopy(
  source: readonly MessageSummary[],
  target: readonly MessageSummary[],
): MessageSummary[] {
  const present = new Map<string, number>();
  for (const message of target) present.set(messageKey(message), (present.get(messageKey(message)) ?? 0) + 1);
  const missing: MessageSummary[] = [];
  for (const message of [...source].sort((a, b) => a.uid - b.uid)) {
    const key = messageKey(message);
    const left = present.get(key) ?? 0;
    if (left > 0) present.set(key, left - 1);
    else missing.push(message);
  }
  return missing;
}

/**
 * Flags to APPEND with: the source's, less \Recent (a server sets it, RFC 3501 section 6.3.11
 * forbids it in APPEND).
 */
export function appendFlags(flags: readonly string[]): string[] {
  return flags.filter((flag) => flag.toLowerCase() !== '\\recent');
}

/** A folder's path on the target: the same levels, joined by the target's hierarchy delimiter. */
export function targetPath(path: string, sourceDelimiter: string, targetDelimiter: string): string {
  if (path.toUpperCase() === 'INBOX' || !sourceDelimiter || sourceDelimiter === targetDelimiter) return path;
  return path.split(sourceDelimiter).join(targetDelimiter);
}
