// STATUS (RFC 9051 6.3.11) with SIZE (RFC 8438), HIGHESTMODSEQ (RFC 7162) and APPENDLIMIT (RFC 7889).
import type { MailboxStatus } from '../../mailbox/api.ts';
import { ArgumentError, defineCommand, ok } from '../command.ts';
import type { Token } from '../../../lib/imap/command-reader.ts';
import { encodeMailboxName } from '../protocol/mailbox-name.ts';
import { atom, type ImapValue } from '../protocol/response.ts';
import type { ImapSession } from '../session.ts';

const ITEMS = [
  'MESSAGES',
  'RECENT',
  'UIDNEXT',
  'UIDVALIDITY',
  'UNSEEN',
  'DELETED',
  'SIZE',
  'HIGHESTMODSEQ',
  'APPENDLIMIT',
];

export function readStatusItems(token: Token | undefined): string[] {
  if (!token || token.kind !== 'list' || token.items.length === 0)
    throw new ArgumentError('Expected a list of status items');
  return token.items.map((t) => {
    const name = t.kind === 'atom' ? t.value.toUpperCase() : '';
    if (!ITEMS.includes(name)) throw new ArgumentError(`Unknown status item ${name.slice(0, 20)}`);
    return name;
  });
}

export async function statusResponse(
  session: ImapSession,
  name: string,
  items: readonly string[],
): Promise<ImapValue[]> {
  const status: MailboxStatus = await session.account!.status(name);
  const values: ImapValue[] = [];
  for (const item of items) {
    const value = {
      MESSAGES: status.messages,
      RECENT: status.recent,
      UIDNEXT: status.uidNext,
      UIDVALIDITY: status.uidValidity,
      UNSEEN: status.unseen,
      DELETED: status.deleted,
      SIZE: status.size,
      HIGHESTMODSEQ: status.highestModseq,
      APPENDLIMIT: session.account!.maxMessageBytes,
    }[item];
    values.push(atom(item), value ?? 0);
  }
  if (items.includes('HIGHESTMODSEQ')) session.condstoreUsed = true;
  return [atom('*'), atom('STATUS'), wireName(session, name), values];
}

export function wireName(session: ImapSession, name: string): string {
  return session.utf8 ? name : encodeMailboxName(name);
}

export const status = defineCommand({
  name: 'STATUS',
  states: ['authenticated', 'selected'],
  grammar: ['mailbox', 'rest'],
  async handle(session, [name, rest]) {
    if (rest.length !== 1) throw new ArgumentError('Expected one list of status items');
    const items = readStatusItems(rest[0]);
    session.untagged(await statusResponse(session, name, items));
    return ok('STATUS completed');
  },
});
