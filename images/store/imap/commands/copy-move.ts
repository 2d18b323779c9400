// COPY, MOVE (RFC 6851) and their UID forms, with COPYUID (RFC 4315). MOVE announces the moved
// messages as expunged after the untagged OK [COPYUID] (RFC 6851 4.3).
import { defineCommand, ok, type ImapCommand } from '../command.ts';
import { atom } from '../protocol/response.ts';
import { formatSequenceSet } from '../protocol/sequence-set.ts';
import { announceExpunged } from './expunge.ts';

function copyUidCode(uidValidity: number, mapping: readonly (readonly [number, number])[]): string {
  return `COPYUID ${uidValidity} ${formatSequenceSet(mapping.map((p) => p[0]))} ${formatSequenceSet(mapping.map((p) => p[1]))}`;
}

function transferCommand(verb: 'COPY' | 'MOVE', uid: boolean): ImapCommand {
  return defineCommand({
    name: uid ? `UID ${verb}` : verb,
    states: ['selected'],
    grammar: ['sequence-set', 'mailbox'],
    async handle(session, [set, destination]) {
      const selected = session.selected!;
      const uids = selected.resolve(set, uid).map((s) => selected.messages[s - 1]!.uid);
      if (uids.length === 0) return ok(`${verb} completed, nothing to do`);
      if (verb === 'COPY') {
        const result = await selected.view.copy(uids, destination);
        return ok(
          'COPY completed',
          result.mapping.length > 0 ? copyUidCode(result.uidValidity, result.mapping) : undefined,
        );
      }
      if (selected.readOnly)
        return { status: 'NO', text: 'The mailbox is read-only (EXAMINE)', code: 'READ-ONLY' };
      const result = await selected.view.move(uids, destination);
      if (result.mapping.length > 0) {
        session.untagged([
          atom('*'),
          atom('OK'),
          atom(`[${copyUidCode(result.uidValidity, result.mapping)}]`),
          atom('Moved'),
        ]);
      }
      announceExpunged(session, result.expunged);
      selected.highestModseq = Math.max(selected.highestModseq, result.modseq);
      return ok('MOVE completed');
    },
  });
}

export const copy = transferCommand('COPY', false);
export const uidCopy = transferCommand('COPY', true);
export const move = transferCommand('MOVE', false);
export const uidMove = transferCommand('MOVE', true);
