// Mailbox names: what a valid name is, how INBOX is spelled, and which names a RENAME touches.
// Pure functions; the engine calls them before it touches the index.
import { MAILBOX_DELIMITER, StoreError } from './api.ts';
import { STORE_LIMITS } from '../limits.ts';

const INBOX = 'INBOX';

/**
 * The canonical form of a client's mailbox name, or a StoreError. `INBOX` is case-insensitive as a
 * whole name and as the first component (RFC 9051 §5.1: "INBOX" in any case means the user's INBOX;
 * Dovecot and Cyrus extend that to `inbox/x`, and clients depend on it).
 */
export function normaliseMailboxName(raw: string): string {
  if (raw.length === 0) throw new StoreError('CANNOT', 'a mailbox name cannot be empty');
  if (Buffer.byteLength(raw) > STORE_LIMITS.mailboxNameBytes)
    throw new StoreError('LIMIT', `a mailbox name is at most ${STORE_LIMITS.mailboxNameBytes} bytes`);
  // Control characters break logs and clients' displays; wildcards cannot be LISTed back (RFC 9051 §5.1).
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f*%]/.test(raw))
    throw new StoreError('CANNOT', 'a mailbox name cannot hold control characters, * or %');
  const parts = raw.split(MAILBOX_DELIMITER);
  if (parts.length > STORE_LIMITS.mailboxDepth)
    throw new StoreError('LIMIT', `mailboxes nest at most ${STORE_LIMITS.mailboxDepth} deep`);
  for (const part of parts) {
    if (part.length === 0)
      throw new StoreError('CANNOT', `"${raw}" has an empty level (a leading, trailing or doubled /)`);
    if (part === '.' || part === '..') throw new StoreError('CANNOT', `"${raw}" has a level named . or ..`);
    if (part !== part.trim())
      throw new StoreError('CANNOT', `"${raw}" has a level that starts or ends with a space`);
  }
  if (parts[0]!.toUpperCase() === INBOX) parts[0] = INBOX;
  return parts.join(MAILBOX_DELIMITER);
}

export function isInbox(name: string): boolean {
  return name === INBOX;
}

/** `a/b/c` → [`a`, `a/b`]: the names CREATE makes first (RFC 9051 §6.3.4). */
export function superiorsOf(name: string): string[] {
  const parts = name.split(MAILBOX_DELIMITER);
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join(MAILBOX_DELIMITER));
  return out;
}

export function parentOf(name: string): string | undefined {
  const at = name.lastIndexOf(MAILBOX_DELIMITER);
  return at < 0 ? undefined : name.slice(0, at);
}

export function isInferiorOf(name: string, ancestor: string): boolean {
  return name.startsWith(ancestor + MAILBOX_DELIMITER);
}

/**
 * The renames a RENAME performs: the mailbox itself and every inferior, as [old, new] pairs in the
 * order given. Renaming INBOX moves only INBOX itself (its inferiors stay, RFC 9051 §6.3.6), which the
 * caller handles; here INBOX is refused as a target and as an ancestor of the target.
 */
export function planRename(existing: readonly string[], from: string, to: string): [string, string][] {
  if (from === to) throw new StoreError('ALREADYEXISTS', `${to} is the mailbox's own name`);
  if (isInbox(to) || isInferiorOf(to, from))
    throw new StoreError(
      'CANNOT',
      `cannot rename ${from} to ${to}${isInbox(to) ? '' : ', one of its own inferiors'}`,
    );
  const names = new Set(existing);
  if (!names.has(from)) throw new StoreError('NONEXISTENT', `no mailbox ${from}`);
  const moving = isInbox(from) ? [from] : existing.filter((n) => n === from || isInferiorOf(n, from));
  const pairs = moving.map((n): [string, string] => [n, to + n.slice(from.length)]);
  for (const [, target] of pairs)
    if (names.has(target) && !moving.includes(target))
      throw new StoreError('ALREADYEXISTS', `${target} exists`);
  return pairs;
}
