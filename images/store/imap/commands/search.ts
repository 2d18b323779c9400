// SEARCH and UID SEARCH (RFC 9051 6.4.4) with ESEARCH result options (RFC 4731; always the answer
// form for IMAP4rev2), CHARSET UTF-8 and CONDSTORE's MODSEQ (RFC 7162 3.1.5).
import { ArgumentError, defineCommand, no, ok, type ImapCommand } from '../command.ts';
import { loadHeader, loadMessage, type ParsedMessage } from '../message/message-loader.ts';
import type { Token } from '../../../lib/imap/command-reader.ts';
import { atom, type ImapValue } from '../protocol/response.ts';
import { formatSequenceSet } from '../protocol/sequence-set.ts';
import { matches, type SearchContent } from '../search/evaluate-search.ts';
import { parseSearchKeys, SearchSyntaxError, type SearchKey } from '../search/search-key.ts';
import type { ImapSession } from '../session.ts';

// SAVE: SEARCHRES (RFC 5182), the result kept as "$" for the commands that follow.
const RETURN_OPTIONS = new Set(['MIN', 'MAX', 'ALL', 'COUNT', 'SAVE']);

export interface SearchRequest {
  returnOptions: Set<string> | undefined;
  key: SearchKey;
}

/** [RETURN (…)] [CHARSET x] keys — shared with SORT and THREAD (which have no RETURN). */
export function readSearch(tokens: readonly Token[], allowReturn: boolean, utf8 = false): SearchRequest {
  let i = 0;
  let returnOptions: Set<string> | undefined;
  const word = (t: Token | undefined) => (t?.kind === 'atom' && !t.section ? t.value.toUpperCase() : '');
  if (allowReturn && word(tokens[0]) === 'RETURN') {
    const list = tokens[1];
    if (list?.kind !== 'list') throw new ArgumentError('Expected RETURN (options)');
    returnOptions = new Set(list.items.map((t) => word(t)));
    for (const option of returnOptions) {
      if (!RETURN_OPTIONS.has(option))
        throw new ArgumentError(`Unsupported RETURN option ${option.slice(0, 20)}`);
    }
    if (returnOptions.size === 0) returnOptions.add('ALL');
    i = 2;
  }
  if (word(tokens[i]) === 'CHARSET') {
    // RFC 6855 3 (erratum 4029): after ENABLE UTF8=ACCEPT, strings are UTF-8 and a label conflicts.
    if (utf8 && allowReturn) throw new ArgumentError('No CHARSET after ENABLE UTF8=ACCEPT');
    const charset = tokens[i + 1];
    const name =
      charset?.kind === 'string'
        ? charset.value.toString('latin1')
        : charset?.kind === 'atom'
          ? charset.value
          : '';
    if (!/^(utf-8|us-ascii)$/i.test(name)) throw new BadCharset();
    i += 2;
  }
  try {
    return { returnOptions, key: parseSearchKeys(tokens.slice(i)) };
  } catch (error) {
    if (error instanceof SearchSyntaxError) throw new ArgumentError(error.message);
    throw error;
  }
}

export class BadCharset extends Error {}

function usesModseq(key: SearchKey): boolean {
  switch (key.op) {
    case 'modseq':
      return true;
    case 'and':
      return key.keys.some(usesModseq);
    case 'or':
      return usesModseq(key.a) || usesModseq(key.b);
    case 'not':
      return usesModseq(key.key);
    default:
      return false;
  }
}

/** The sequence numbers of the selected mailbox's messages that match. */
export async function runSearch(session: ImapSession, key: SearchKey): Promise<number[]> {
  const selected = session.selected!;
  const view = selected.view;
  const largestUid = selected.messages.at(-1)?.uid ?? 0;
  const scope = {
    largestSeq: selected.exists,
    largestUid,
    now: Date.now(),
    saved: new Set(selected.savedUids()),
  };
  const found: number[] = [];
  for (let i = 0; i < selected.messages.length; i++) {
    const meta = selected.messages[i]!;
    let loaded: Promise<ParsedMessage> | undefined;
    const load = () => (loaded ??= loadMessage(view, meta.uid, true));
    const content: SearchContent = {
      key: `${session.user}\0${view.name}\0${selected.uidValidity}\0${meta.uid}`,
      // Header keys (FROM, SUBJECT, HEADER …) read the header block alone, unless the message is
      // loaded whole for another key anyway.
      header: async () => {
        if (!loaded) return loadHeader(view, meta.uid, meta.size);
        const m = await loaded;
        return m.bytes!.subarray(m.tree.root.headerStart, m.tree.root.bodyStart);
      },
      message: async () => (await load()).bytes!,
      tree: async () => (await load()).tree,
    };
    if (await matches(key, { seq: i + 1, meta }, content, scope)) found.push(i + 1);
  }
  return found;
}

function searchCommand(uid: boolean): ImapCommand {
  return defineCommand({
    name: uid ? 'UID SEARCH' : 'SEARCH',
    states: ['selected'],
    grammar: ['rest'],
    async handle(session, [tokens], tag) {
      const selected = session.selected!;
      let request: SearchRequest;
      try {
        request = readSearch(tokens, true, session.utf8);
      } catch (error) {
        // RFC 5182 2.1: a SEARCH that fails leaves "$" empty, if it meant to save (it is read
        // roughly here, as the command could not be parsed).
        if (
          tokens.some(
            (t) => t.kind === 'list' && t.items.some((x) => x.kind === 'atom' && /^save$/i.test(x.value)),
          )
        )
          selected.savedResult = [];
        if (error instanceof BadCharset) return no('Unsupported charset', 'BADCHARSET (UTF-8 US-ASCII)');
        throw error;
      }
      const modseq = usesModseq(request.key);
      if (modseq) session.condstoreUsed = true;
      const seqs = await runSearch(session, request.key);
      const numbers = seqs.map((s) => (uid ? selected.messages[s - 1]!.uid : s));
      const highest = seqs.reduce((a, s) => Math.max(a, selected.messages[s - 1]!.modseq), 0);
      const requested = request.returnOptions;
      if (requested?.has('SAVE')) {
        // RFC 5182 2.4: with MIN and/or MAX alone, only those are kept; else the whole result.
        const uids = seqs.map((s) => selected.messages[s - 1]!.uid);
        const onlyEnds =
          !requested.has('ALL') && !requested.has('COUNT') && (requested.has('MIN') || requested.has('MAX'));
        selected.savedResult =
          onlyEnds && uids.length > 0
            ? [
                ...new Set([
                  ...(requested.has('MIN') ? [Math.min(...uids)] : []),
                  ...(requested.has('MAX') ? [Math.max(...uids)] : []),
                ]),
              ]
            : uids;
        requested.delete('SAVE');
        // SAVE alone answers nothing but the tagged OK (RFC 5182 2.1).
        if (requested.size === 0) return ok('SEARCH completed, result saved');
      }
      const options = requested ?? (session.rev2 ? new Set(['ALL']) : undefined);
      if (!options) {
        const line: ImapValue[] = [atom('*'), atom('SEARCH'), ...numbers];
        if (modseq && numbers.length > 0) line.push([atom('MODSEQ'), highest]);
        session.untagged(line);
        return ok('SEARCH completed');
      }
      const line: ImapValue[] = [atom('*'), atom('ESEARCH'), [atom('TAG'), tag]];
      if (uid) line.push(atom('UID'));
      if (numbers.length > 0) {
        if (options.has('MIN')) line.push(atom('MIN'), Math.min(...numbers));
        if (options.has('MAX')) line.push(atom('MAX'), Math.max(...numbers));
        if (options.has('ALL'))
          line.push(atom('ALL'), atom(formatSequenceSet([...numbers].sort((a, b) => a - b))));
      }
      if (options.has('COUNT')) line.push(atom('COUNT'), numbers.length);
      if (modseq && numbers.length > 0) line.push(atom('MODSEQ'), highest);
      session.untagged(line);
      return ok('SEARCH completed');
    },
  });
}

export const search = searchCommand(false);
export const uidSearch = searchCommand(true);
