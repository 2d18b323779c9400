// SORT, THREAD and their UID forms (RFC 5256; DISPLAYFROM/DISPLAYTO from RFC 5957). The messages are
// chosen with the SEARCH evaluator, then ordered or threaded by the pure functions in search/.
import { ArgumentError, defineCommand, no, ok, type ImapCommand } from '../command.ts';
import type { EnvelopeAddress } from '../message/envelope.ts';
import { loadMessage } from '../message/message-loader.ts';
import type { Token } from '../../../lib/imap/command-reader.ts';
import { adjacent, atom } from '../protocol/response.ts';
import { decodeHeaderText } from '../search/evaluate-search.ts';
import {
  renderThreads,
  sortMessages,
  SORT_CRITERIA,
  threadOrderedSubject,
  threadReferences,
  type SortCriterion,
  type SortFacts,
  type SortRule,
} from '../search/sort-thread.ts';
import type { ImapSession } from '../session.ts';
import { BadCharset, readSearch, runSearch } from './search.ts';

const CHARSET: Token = { kind: 'atom', value: 'CHARSET' };

/** The SORT/THREAD facts from the cached MIME tree's envelope: no message is read once cached. */
async function factsOf(session: ImapSession, seq: number, uid: boolean): Promise<SortFacts> {
  const selected = session.selected!;
  const m = selected.messages[seq - 1]!;
  const envelope = (await loadMessage(selected.view, m.uid, false)).tree.root.envelope!;
  const first = (list: EnvelopeAddress[] | null) => {
    const a = list?.find((x) => x[2] !== null && x[3] !== null);
    return { mailbox: a?.[2] ?? '', display: a ? decodeHeaderText(a[0] ?? `${a[2]}@${a[3]}`) : '' };
  };
  const date = Date.parse(envelope.date ?? '');
  const ids = (text: string | null | undefined) => (text ? (text.match(/<[^<>\s]+>/g) ?? []) : []);
  const references = envelope.references ? ids(envelope.references) : ids(envelope.inReplyTo).slice(0, 1);
  const from = first(envelope.from);
  const to = first(envelope.to);
  return {
    id: uid ? m.uid : seq,
    seq,
    size: m.size,
    internalDate: m.internalDate,
    sentDate: Number.isNaN(date) ? m.internalDate : date,
    subject: envelope.subject ?? undefined,
    from: from.mailbox,
    to: to.mailbox,
    cc: first(envelope.cc).mailbox,
    fromDisplay: from.display,
    toDisplay: to.display,
    messageId: ids(envelope.messageId)[0],
    references,
  };
}

async function chosenFacts(
  session: ImapSession,
  tokens: Parameters<typeof readSearch>[0],
  uid: boolean,
): Promise<SortFacts[] | 'badcharset'> {
  let request;
  try {
    request = readSearch(tokens, false);
  } catch (error) {
    if (error instanceof BadCharset) return 'badcharset';
    throw error;
  }
  const seqs = await runSearch(session, request.key);
  const facts: SortFacts[] = [];
  for (const seq of seqs) facts.push(await factsOf(session, seq, uid));
  return facts;
}

function sortCommand(uid: boolean): ImapCommand {
  return defineCommand({
    name: uid ? 'UID SORT' : 'SORT',
    states: ['selected'],
    grammar: ['rest'],
    async handle(session, [tokens]) {
      const [criteria, ...rest] = tokens;
      if (criteria?.kind !== 'list' || criteria.items.length === 0)
        throw new ArgumentError('Expected (sort criteria)');
      const rules: SortRule[] = [];
      let reverse = false;
      for (const t of criteria.items) {
        const word = t.kind === 'atom' ? t.value.toUpperCase() : '';
        if (word === 'REVERSE') {
          reverse = true;
          continue;
        }
        if (!SORT_CRITERIA.has(word)) throw new ArgumentError(`Unknown sort criterion ${word.slice(0, 20)}`);
        rules.push({ criterion: word as SortCriterion, reverse });
        reverse = false;
      }
      if (reverse || rules.length === 0) throw new ArgumentError('REVERSE must precede a criterion');
      // RFC 5256: the charset is mandatory here.
      if (rest[0]?.kind !== 'atom' && rest[0]?.kind !== 'string')
        throw new ArgumentError('Expected a charset');
      const facts = await chosenFacts(session, [CHARSET, ...rest], uid);
      if (facts === 'badcharset') return no('Unsupported charset', 'BADCHARSET (UTF-8 US-ASCII)');
      session.untagged([atom('*'), atom('SORT'), ...sortMessages(facts, rules)]);
      return ok('SORT completed');
    },
  });
}

function threadCommand(uid: boolean): ImapCommand {
  return defineCommand({
    name: uid ? 'UID THREAD' : 'THREAD',
    states: ['selected'],
    grammar: ['atom', 'rest'],
    async handle(session, [algorithm, rest]) {
      const name = algorithm.toUpperCase();
      if (name !== 'REFERENCES' && name !== 'ORDEREDSUBJECT')
        throw new ArgumentError(`Unknown threading algorithm ${name.slice(0, 20)}`);
      if (rest[0]?.kind !== 'atom' && rest[0]?.kind !== 'string')
        throw new ArgumentError('Expected a charset');
      const facts = await chosenFacts(session, [CHARSET, ...rest], uid);
      if (facts === 'badcharset') return no('Unsupported charset', 'BADCHARSET (UTF-8 US-ASCII)');
      const threads = name === 'REFERENCES' ? threadReferences(facts) : threadOrderedSubject(facts);
      // Threads follow each other without spaces: "* THREAD (2)(3 6 (4 23)(44 7 96))".
      session.untagged([
        atom('*'),
        atom('THREAD'),
        ...(threads.length > 0 ? [adjacent(renderThreads(threads))] : []),
      ]);
      return ok('THREAD completed');
    },
  });
}

export const sort = sortCommand(false);
export const uidSort = sortCommand(true);
export const thread = threadCommand(false);
export const uidThread = threadCommand(true);
