// SELECT and EXAMINE (RFC 9051 6.3.2–6.3.3) with CONDSTORE (RFC 7162 3.1.8) and QRESYNC's quick
// resynchronization (RFC 7162 3.2.5): VANISHED (EARLIER) and the FETCHes of what changed.
import { ArgumentError, defineCommand, ok, type ImapCommand } from '../command.ts';
import type { Token } from '../../../lib/imap/command-reader.ts';
import { atom } from '../protocol/response.ts';
import { formatSequenceSet, parseSequenceSet, setContains } from '../protocol/sequence-set.ts';
import { SelectedMailbox } from '../selected-mailbox.ts';
import type { ImapSession } from '../session.ts';
import { hasFlag } from '../search/evaluate-search.ts';
import { wireName } from './status.ts';

const SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'];

interface QresyncParams {
  uidValidity: number;
  modseq: number;
  knownUids: string | undefined;
}

function readParams(
  session: ImapSession,
  tokens: readonly Token[],
): { condstore: boolean; qresync?: QresyncParams } {
  if (tokens.length === 0) return { condstore: false };
  const list = tokens[0];
  if (tokens.length > 1 || list?.kind !== 'list') throw new ArgumentError('Expected (select parameters)');
  let condstore = false;
  let qresync: QresyncParams | undefined;
  for (let i = 0; i < list.items.length; i++) {
    const t = list.items[i]!;
    const name = t.kind === 'atom' ? t.value.toUpperCase() : '';
    if (name === 'CONDSTORE') condstore = true;
    else if (name === 'QRESYNC') {
      if (!session.enabled.has('QRESYNC')) throw new ArgumentError('QRESYNC must be enabled first');
      const p = list.items[++i];
      const [v, m, known, match, ...extra] = p?.kind === 'list' ? p.items : [];
      if (extra.length > 0) throw new ArgumentError('Too many QRESYNC parameters');
      if (match) checkSequenceMatch(known, match);
      const num = (x: Token | undefined) =>
        x?.kind === 'atom' && /^\d{1,19}$/.test(x.value) ? Number(x.value) : NaN;
      const uidValidity = num(v);
      const modseq = num(m);
      if (Number.isNaN(uidValidity) || Number.isNaN(modseq))
        throw new ArgumentError('Expected (uidvalidity modseq [known-uids])');
      qresync = { uidValidity, modseq, knownUids: known?.kind === 'atom' ? known.value : undefined };
    } else throw new ArgumentError(`Unknown select parameter ${name.slice(0, 20)}`);
  }
  return { condstore, ...(qresync ? { qresync } : {}) };
}

/**
 * RFC 7162 3.2.5.2: (known-sequence-set known-uid-set), pairs of the client's sequence numbers and
 * the UIDs it had at them. A server that forgets expunged UIDs uses them to send less VANISHED; this
 * one keeps a tombstone of every expunge for the life of the mailbox, so its VANISHED (EARLIER) is
 * exact without them. They are checked (two sets of equal size) and otherwise not needed.
 */
function checkSequenceMatch(known: Token | undefined, match: Token): void {
  if (known?.kind !== 'atom' || !parseSequenceSet(known.value))
    throw new ArgumentError('Sequence match data needs known-uids');
  const [seqs, uids, ...more] = match.kind === 'list' ? match.items : [];
  const count = (t: Token | undefined) => {
    const set = t?.kind === 'atom' && !t.value.includes('*') ? parseSequenceSet(t.value) : undefined;
    if (!set) throw new ArgumentError('Invalid sequence match data');
    return set.reduce((n, r) => n + Math.abs(r.end! - r.start!) + 1, 0);
  };
  if (more.length > 0 || count(seqs) !== count(uids))
    throw new ArgumentError('Sequence match data: the two sets must have as many numbers');
}

function openCommand(name: 'SELECT' | 'EXAMINE'): ImapCommand {
  return defineCommand({
    name,
    states: ['authenticated', 'selected'],
    grammar: ['mailbox', 'rest'],
    async handle(session, [mailbox, rest]) {
      const params = readParams(session, rest);
      if (session.selected) {
        // RFC 7162 3.2.11: with QRESYNC, the end of the old selection is announced.
        session.selected.view.close();
        session.selected = undefined;
        session.state = 'authenticated';
        if (session.enabled.has('QRESYNC'))
          session.untagged([atom('*'), atom('OK'), atom('[CLOSED]'), atom('Previous mailbox closed')]);
      }
      if (params.condstore) session.condstoreUsed = true;
      const view = await session.account!.openMailbox(mailbox, { readOnly: name === 'EXAMINE' });
      const selected = new SelectedMailbox(view);
      session.selected = selected;
      session.state = 'selected';
      const keywords = view.snapshot.keywords;
      const flags = [...SYSTEM_FLAGS, ...keywords].map(atom);
      session.untagged([atom('*'), atom('FLAGS'), flags]);
      const permanent = selected.readOnly ? [] : [...flags, atom('\\*')];
      session.send(
        Buffer.from(`* OK [PERMANENTFLAGS (${permanent.map((f) => f.value).join(' ')})] Flags permitted\r\n`),
      );
      session.untagged([atom('*'), selected.exists, atom('EXISTS')]);
      if (!session.rev2) {
        session.untagged([atom('*'), selected.messages.filter((m) => m.recent).length, atom('RECENT')]);
        const firstUnseen = selected.messages.findIndex((m) => !hasFlag(m.flags, '\\Seen'));
        if (firstUnseen >= 0) session.send(Buffer.from(`* OK [UNSEEN ${firstUnseen + 1}] First unseen\r\n`));
      }
      session.send(Buffer.from(`* OK [UIDVALIDITY ${selected.uidValidity}] UIDs valid\r\n`));
      session.send(Buffer.from(`* OK [UIDNEXT ${selected.uidNext}] Predicted next UID\r\n`));
      session.send(Buffer.from(`* OK [HIGHESTMODSEQ ${selected.highestModseq}] Highest\r\n`));
      if (session.rev2) session.untagged([atom('*'), atom('LIST'), [], '/', wireName(session, view.name)]);
      if (params.qresync && params.qresync.uidValidity === selected.uidValidity) {
        await quickResync(session, selected, params.qresync);
      }
      return ok(`${name} completed`, selected.readOnly ? 'READ-ONLY' : 'READ-WRITE');
    },
  });
}

async function quickResync(session: ImapSession, selected: SelectedMailbox, q: QresyncParams): Promise<void> {
  const knownSet = q.knownUids ? parseSequenceSet(q.knownUids) : undefined;
  if (q.knownUids && !knownSet) throw new ArgumentError('Invalid known-uids');
  const vanished = await selected.view.vanishedSince(q.modseq);
  const largest = selected.uidNext - 1;
  const wanted = knownSet ? vanished.filter((u) => setContains(knownSet, u, largest)) : vanished;
  if (wanted.length > 0) {
    session.untagged([atom('*'), atom('VANISHED'), atom('(EARLIER)'), atom(formatSequenceSet(wanted))]);
  }
  for (let i = 0; i < selected.messages.length; i++) {
    const m = selected.messages[i]!;
    if (m.modseq <= q.modseq) continue;
    session.untagged([atom('*'), i + 1, atom('FETCH'), selected.flagsItem(m, true, !session.rev2)]);
  }
}

export const select = openCommand('SELECT');
export const examine = openCommand('EXAMINE');

export const close = defineCommand({
  name: 'CLOSE',
  states: ['selected'],
  grammar: [],
  async handle(session) {
    const selected = session.selected!;
    // RFC 9051 6.4.1: CLOSE expunges silently, and not in a read-only mailbox.
    if (!selected.readOnly) await selected.view.expunge({ onlyDeleted: true });
    selected.view.close();
    session.selected = undefined;
    session.state = 'authenticated';
    return ok('CLOSE completed');
  },
});

export const unselect = defineCommand({
  name: 'UNSELECT',
  states: ['selected'],
  grammar: [],
  handle(session) {
    session.selected!.view.close();
    session.selected = undefined;
    session.state = 'authenticated';
    return Promise.resolve(ok('UNSELECT completed'));
  },
});
