// The shape every POP3 command module has (docs/design.md, "Protocol command shape"): the states
// it is valid in, the grammar of its arguments and its handler. The dispatcher reads the arguments
// with the grammar's readers, so a handler sees typed values only and never checks state or arity.
import {
  ArgumentError,
  type ArgumentsOfGrammar,
  type GrammarEntryOf,
} from '../../lib/protocol/command-shape.ts';
import type { Readable } from 'node:stream';
import type { Pop3Session } from './session.ts';

/** RFC 1939 §3: AUTHORIZATION, then TRANSACTION after login; UPDATE happens inside QUIT. */
export type Pop3State = 'authorization' | 'transaction';

export interface ArgumentTypes {
  /** A message number (RFC 1939 §3) that exists and is not marked deleted; resolved to its index. */
  message: number;
  /** A non-negative number (TOP's line count). */
  number: number;
  /** One space-free word (USER's name, AUTH's mechanism and initial response). */
  word: string;
  /** The whole rest of the line, spaces included (PASS: a password may hold spaces, RFC 1939 §7). */
  rest: string;
}

export type ArgumentKind = keyof ArgumentTypes;
export type GrammarEntry = GrammarEntryOf<ArgumentTypes>;
export type ArgumentsOf<G extends readonly GrammarEntry[]> = ArgumentsOfGrammar<ArgumentTypes, G>;

/** A reply: the status line, an RFC 2449 response code, and for multi-line replies the body. */
export interface Pop3Reply {
  readonly ok: boolean;
  readonly text: string;
  /** RFC 2449 §8 / RFC 3206: IN-USE, LOGIN-DELAY, SYS/TEMP, SYS/PERM, AUTH. */
  readonly code?: string;
  /** Lines (without CRLF) or raw message bytes; dot-stuffed and terminated by the dispatcher. */
  readonly body?: readonly string[] | Readable;
  /** The handler already answered (STLS must, before its handshake). */
  readonly silent?: boolean;
}

export interface Pop3Command<G extends readonly GrammarEntry[] = readonly GrammarEntry[]> {
  readonly name: string;
  readonly states: readonly Pop3State[];
  readonly grammar: G;
  handle(session: Pop3Session, args: ArgumentsOf<G>): Promise<Pop3Reply> | Pop3Reply;
}

/** Keeps the grammar's literal type so the handler's arguments are typed from it. */
export function defineCommand<const G extends readonly GrammarEntry[]>(command: Pop3Command<G>): Pop3Command {
  return command as unknown as Pop3Command;
}

export const ok = (text: string, body?: Pop3Reply['body']): Pop3Reply => ({
  ok: true,
  text,
  ...(body ? { body } : {}),
});
export const err = (text: string, code?: string): Pop3Reply => ({
  ok: false,
  text,
  ...(code ? { code } : {}),
});

export { ArgumentError };

/**
 * Reads a command's arguments (the words after the verb, split on single spaces) by its grammar.
 * `messageExists` resolves a message number for the `message` reader.
 */
export function readArguments(
  grammar: readonly GrammarEntry[],
  argument: string,
  messageExists: (n: number) => boolean,
): unknown[] {
  const values: unknown[] = [];
  let rest = argument;
  for (const entry of grammar) {
    if (entry === 'rest') {
      if (rest === '') throw new ArgumentError('an argument is missing');
      values.push(rest);
      rest = '';
      continue;
    }
    const optional = entry.endsWith('?');
    const kind = (optional ? entry.slice(0, -1) : entry) as Exclude<ArgumentKind, 'rest'>;
    const space = rest.indexOf(' ');
    const word = space < 0 ? rest : rest.slice(0, space);
    rest = space < 0 ? '' : rest.slice(space + 1);
    if (word === '') {
      if (optional) {
        values.push(undefined);
        continue;
      }
      throw new ArgumentError('an argument is missing');
    }
    values.push(readOne(kind, word, messageExists));
  }
  if (rest !== '') throw new ArgumentError('too many arguments');
  return values;
}

function readOne(
  kind: Exclude<ArgumentKind, 'rest'>,
  word: string,
  messageExists: (n: number) => boolean,
): unknown {
  switch (kind) {
    case 'word':
      return word;
    case 'number':
      if (!/^[0-9]{1,9}$/.test(word)) throw new ArgumentError(`${word.slice(0, 20)} is not a number`);
      return Number(word);
    case 'message': {
      if (!/^[0-9]{1,9}$/.test(word)) throw new ArgumentError(`${word.slice(0, 20)} is not a message number`);
      const n = Number(word);
      if (!messageExists(n)) throw new ArgumentError(`no message ${n}`);
      return n;
    }
  }
}
