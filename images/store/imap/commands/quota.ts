// QUOTA (RFC 9208): one root, "", for all of a user's mailboxes; STORAGE in units of 1024 octets
// (rounded up), MESSAGE as a count. SETQUOTA is refused: the limits come from the topology.
import type { Quota } from '../../mailbox/api.ts';
import { defineCommand, no, ok } from '../command.ts';
import { atom, type ImapValue } from '../protocol/response.ts';
import type { ImapSession } from '../session.ts';
import { wireName } from './status.ts';

function quotaResponse(quota: Quota): ImapValue[] {
  const resources: ImapValue[] = [];
  if (quota.storage.limit !== undefined) {
    resources.push(
      atom('STORAGE'),
      Math.ceil(quota.storage.usage / 1024),
      Math.ceil(quota.storage.limit / 1024),
    );
  }
  if (quota.messages.limit !== undefined)
    resources.push(atom('MESSAGE'), quota.messages.usage, quota.messages.limit);
  return [atom('*'), atom('QUOTA'), '', resources];
}

async function sendQuota(session: ImapSession): Promise<void> {
  session.untagged(quotaResponse(await session.account!.quota()));
}

export const getquota = defineCommand({
  name: 'GETQUOTA',
  states: ['authenticated', 'selected'],
  grammar: ['astring'],
  async handle(session, [root]) {
    if (root !== '') return no('No such quota root', 'NONEXISTENT');
    await sendQuota(session);
    return ok('GETQUOTA completed');
  },
});

export const getquotaroot = defineCommand({
  name: 'GETQUOTAROOT',
  states: ['authenticated', 'selected'],
  grammar: ['mailbox'],
  async handle(session, [mailbox]) {
    await session.account!.status(mailbox); // NONEXISTENT for a mailbox that is not there
    session.untagged([atom('*'), atom('QUOTAROOT'), wireName(session, mailbox), '']);
    await sendQuota(session);
    return ok('GETQUOTAROOT completed');
  },
});

export const setquota = defineCommand({
  name: 'SETQUOTA',
  states: ['authenticated', 'selected'],
  grammar: ['rest'],
  handle: () => Promise.resolve(no('Quotas are set by the topology, not by clients', 'NOPERM')),
});
