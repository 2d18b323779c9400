// EXPUNGE and UID EXPUNGE (RFC 9051 6.4.3, RFC 4315 2.1): the messages this session removes are
// announced here, by sequence number (highest first, so none shifts) or as VANISHED with QRESYNC.
import { defineCommand, no, ok, type ImapCommand } from '../command.ts';
import { atom } from '../protocol/response.ts';
import { formatSequenceSet, isSavedResult, selectFromSorted } from '../protocol/sequence-set.ts';
import type { ImapSession } from '../session.ts';

export function announceExpunged(session: ImapSession, uids: readonly number[]): void {
  const selected = session.selected!;
  if (session.enabled.has('QRESYNC')) {
    const present = uids.filter((u) => selected.seqOf(u) > 0).sort((a, b) => a - b);
    selected.removeOwn(present);
    if (present.length > 0) session.untagged([atom('*'), atom('VANISHED'), atom(formatSequenceSet(present))]);
    return;
  }
  for (const seq of selected.removeOwn(uids)) session.untagged([atom('*'), seq, atom('EXPUNGE')]);
}

function expungeCommand(uid: boolean): ImapCommand {
  return defineCommand({
    name: uid ? 'UID EXPUNGE' : 'EXPUNGE',
    states: ['selected'],
    grammar: uid ? ['sequence-set'] : [],
    async handle(session, [set]) {
      const selected = session.selected!;
      if (selected.readOnly) return no('The mailbox is read-only (EXAMINE)', 'READ-ONLY');
      const uids = set
        ? isSavedResult(set)
          ? selected.savedUids()
          : selectFromSorted(set, selected.uids)
        : undefined;
      const result = await selected.view.expunge({ onlyDeleted: true, ...(uids ? { uids } : {}) });
      announceExpunged(session, result.uids);
      selected.highestModseq = Math.max(selected.highestModseq, result.modseq);
      return ok(
        'EXPUNGE completed',
        session.condstore ? `HIGHESTMODSEQ ${selected.highestModseq}` : undefined,
      );
    },
  });
}

export const expunge = expungeCommand(false);
export const uidExpunge = expungeCommand(true);
