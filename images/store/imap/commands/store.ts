// STORE and UID STORE (RFC 9051 6.4.6) with CONDSTORE's UNCHANGEDSINCE and MODIFIED (RFC 7162
// 3.1.3). The new flags come back as untagged FETCH unless .SILENT; with CONDSTORE a .SILENT store
// still reports messages whose flags another session changed meanwhile (3.1.3, last paragraph).
import { ArgumentError, defineCommand, flagList, no, ok, type ImapCommand } from '../command.ts';
import { atom, type ImapValue } from '../protocol/response.ts';
import { formatSequenceSet } from '../protocol/sequence-set.ts';

function storeCommand(uid: boolean): ImapCommand {
  return defineCommand({
    name: uid ? 'UID STORE' : 'STORE',
    states: ['selected'],
    grammar: ['sequence-set', 'rest'],
    async handle(session, [set, rest]) {
      const selected = session.selected!;
      let i = 0;
      let unchangedSince: number | undefined;
      const first = rest[0];
      if (first?.kind === 'list') {
        const [name, value] = first.items;
        if (
          name?.kind !== 'atom' ||
          name.value.toUpperCase() !== 'UNCHANGEDSINCE' ||
          value?.kind !== 'atom' ||
          !/^\d{1,19}$/.test(value.value)
        ) {
          throw new ArgumentError('Expected (UNCHANGEDSINCE modseq)');
        }
        unchangedSince = Number(value.value);
        session.condstoreUsed = true;
        i = 1;
      }
      const item = rest[i];
      const flagsToken = rest[i + 1];
      if (item?.kind !== 'atom' || !flagsToken || rest.length > i + 2)
        throw new ArgumentError('Expected item and flags');
      const m = /^([+-]?)FLAGS(\.SILENT)?$/i.exec(item.value);
      if (!m) throw new ArgumentError(`Unknown STORE item ${item.value.slice(0, 20)}`);
      const mode = m[1] === '+' ? 'add' : m[1] === '-' ? 'remove' : 'replace';
      const silent = m[2] !== undefined;
      const flags = flagList(flagsToken).filter((f) => f !== '\\Recent');
      if (selected.readOnly) return no('The mailbox is read-only (EXAMINE)', 'READ-ONLY');
      const seqs = selected.resolve(set, uid);
      const uids = seqs.map((s) => selected.messages[s - 1]!.uid);
      const result = await selected.view.storeFlags({
        uids,
        mode,
        flags,
        ...(unchangedSince !== undefined ? { unchangedSince } : {}),
      });
      for (const meta of result.messages) {
        const before = selected.byUid(meta.uid)?.flags ?? [];
        selected.noteFlags(meta);
        selected.highestModseq = Math.max(selected.highestModseq, meta.modseq);
        // .SILENT still reports a message whose flags are not what the client expects (another
        // session changed them too), so its view stays right.
        if (silent && sameFlags(expected(before, mode, flags), meta.flags)) continue;
        const seq = selected.seqOf(meta.uid);
        const items: ImapValue[] = [atom('FLAGS'), session.flagList(selected.messages[seq - 1]!)];
        if (uid || session.condstore) items.unshift(atom('UID'), meta.uid);
        if (session.condstore) items.push(atom('MODSEQ'), [meta.modseq]);
        session.untagged([atom('*'), seq, atom('FETCH'), items]);
      }
      if (result.modified.length > 0) {
        const modified = uid
          ? result.modified
          : result.modified.map((u) => selected.seqOf(u)).filter((s) => s > 0);
        return ok(
          'Conditional STORE failed for some messages',
          `MODIFIED ${formatSequenceSet([...modified].sort((a, b) => a - b))}`,
        );
      }
      return ok('STORE completed');
    },
  });
}

export const store = storeCommand(false);
export const uidStore = storeCommand(true);

function expected(
  before: readonly string[],
  mode: 'add' | 'remove' | 'replace',
  flags: readonly string[],
): string[] {
  const lower = new Set(flags.map((f) => f.toLowerCase()));
  if (mode === 'replace') return [...flags];
  if (mode === 'remove') return before.filter((f) => !lower.has(f.toLowerCase()));
  return [...before, ...flags.filter((f) => !before.some((b) => b.toLowerCase() === f.toLowerCase()))];
}

function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  const x = new Set(a.map((f) => f.toLowerCase()));
  const y = new Set(b.map((f) => f.toLowerCase()));
  return x.size === y.size && [...x].every((f) => y.has(f));
}
