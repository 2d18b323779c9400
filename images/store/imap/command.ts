// The shape every IMAP command module has (docs/design.md, "Protocol command shape"): the states it
// is valid in, the grammar of its arguments, and its handler. The dispatcher reads the arguments
// with the grammar's readers before the handler runs, so a handler sees typed values only.
import {
  ArgumentError,
  type ArgumentsOfGrammar,
  type GrammarEntryOf,
} from '../../lib/protocol/command-shape.ts';
import type { Token } from '../../lib/imap/command-reader.ts';
import { decodeMailboxName } from './protocol/mailbox-name.ts';
import { parseSequenceSet, SAVED_RESULT, type SequenceSet } from './protocol/sequence-set.ts';
import type { ImapSession } from './session.ts';

export type SessionState = 'not-authenticated' | 'authenticated' | 'selected' | 'logout';

/** The argument readers. A trailing "?" makes one optional; "rest" takes whatever is left. */
export interface ArgumentTypes {
  /** astring: atom, quoted or literal, as UTF-8. */
  astring: string;
  /** A mailbox name: modified UTF-7 decoded (unless UTF8=ACCEPT), INBOX in any case made INBOX. */
  mailbox: string;
  /** A LIST pattern (list-mailbox): like mailbox, with % and * kept. */
  pattern: string;
  atom: string;
  number: number;
  'sequence-set': SequenceSet;
  /** A parenthesized list of flags, or a single flag. */
  'flag-list': string[];
  /** Every remaining token, for commands whose grammar is their own (FETCH items, SEARCH keys). */
  rest: Token[];
}

export type ArgumentKind = keyof ArgumentTypes;
export type GrammarEntry = GrammarEntryOf<ArgumentTypes>;
export type ArgumentsOf<G extends readonly GrammarEntry[]> = ArgumentsOfGrammar<ArgumentTypes, G>;

export interface CommandResult {
  status: 'OK' | 'NO' | 'BAD';
  text: string;
  code?: string;
  /** The handler already sent the tagged response (STARTTLS must, before its handshake). */
  silent?: boolean;
}

export interface ImapCommand<G extends readonly GrammarEntry[] = readonly GrammarEntry[]> {
  /** Upper case; UID forms are "UID FETCH" etc. */
  readonly name: string;
  readonly states: readonly SessionState[];
  readonly grammar: G;
  handle(session: ImapSession, args: ArgumentsOf<G>, tag: string): Promise<CommandResult>;
}

/** Keeps the grammar's literal types so the handler's arguments are typed from it. */
export function defineCommand<const G extends readonly GrammarEntry[]>(command: ImapCommand<G>): ImapCommand {
  return command as unknown as ImapCommand;
}

export const ok = (text: string, code?: string): CommandResult => ({
  status: 'OK',
  text,
  ...(code ? { code } : {}),
});
export const no = (text: string, code?: string): CommandResult => ({
  status: 'NO',
  text,
  ...(code ? { code } : {}),
});
export const bad = (text: string, code?: string): CommandResult => ({
  status: 'BAD',
  text,
  ...(code ? { code } : {}),
});

export { ArgumentError };

/** Reads the arguments a grammar names, or throws ArgumentError with the reason for BAD. */
export function readArguments(
  grammar: readonly GrammarEntry[],
  tokens: readonly Token[],
  utf8: boolean,
): unknown[] {
  const values: unknown[] = [];
  let i = 0;
  for (const entry of grammar) {
    if (entry === 'rest') {
      values.push(tokens.slice(i));
      i = tokens.length;
      continue;
    }
    const optional = entry.endsWith('?');
    const kind = (optional ? entry.slice(0, -1) : entry) as Exclude<ArgumentKind, 'rest'>;
    const token = tokens[i];
    if (!token) {
      if (optional) {
        values.push(undefined);
        continue;
      }
      throw new ArgumentError(`Missing argument: ${kind}`);
    }
    values.push(readOne(kind, token, utf8));
    i++;
  }
  if (i < tokens.length) throw new ArgumentError('Too many arguments');
  return values;
}

function readOne(kind: Exclude<ArgumentKind, 'rest'>, token: Token, utf8: boolean): unknown {
  switch (kind) {
    case 'astring':
      return astring(token);
    case 'atom':
      if (token.kind !== 'atom') throw new ArgumentError('Expected an atom');
      return token.value;
    case 'number': {
      if (token.kind !== 'atom' || !/^\d{1,19}$/.test(token.value))
        throw new ArgumentError('Expected a number');
      return Number(token.value);
    }
    case 'sequence-set': {
      if (token.kind === 'atom' && token.value === '$') return SAVED_RESULT;
      const set = token.kind === 'atom' ? parseSequenceSet(token.value) : undefined;
      if (!set) throw new ArgumentError('Invalid sequence set');
      return set;
    }
    case 'flag-list':
      return flagList(token);
    case 'mailbox':
    case 'pattern':
      return mailboxName(astring(token), utf8);
  }
}

export function astring(token: Token): string {
  if (token.kind === 'list') throw new ArgumentError('Expected a string');
  if (token.kind === 'atom' && token.section) throw new ArgumentError('Expected a string');
  return token.kind === 'string' ? token.value.toString('utf8') : token.value;
}

export function mailboxName(wire: string, utf8: boolean): string {
  const name = utf8 ? wire : decodeMailboxName(wire);
  if (name === undefined) throw new ArgumentError('Invalid modified UTF-7 in mailbox name');
  // RFC 9051 5.1: INBOX is case-insensitive, also as the first level of a hierarchy.
  return /^inbox(\/|$)/i.test(name) ? `INBOX${name.slice(5)}` : name;
}

export function flagList(token: Token): string[] {
  const items = token.kind === 'list' ? token.items : [token];
  return items.map((item) => {
    if (item.kind !== 'atom' || !/^\\?[^\s(){%*"\\\]]+$/.test(item.value))
      throw new ArgumentError('Invalid flag');
    return canonicalFlag(item.value);
  });
}

const SYSTEM = ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft', '\\Recent'];

/** System flags in their canonical case; keywords as given. */
export function canonicalFlag(flag: string): string {
  return SYSTEM.find((f) => f.toLowerCase() === flag.toLowerCase()) ?? flag;
}
