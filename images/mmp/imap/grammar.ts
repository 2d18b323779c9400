// The argument readers every pre-login command draws on: they turn the reader's generic tokens into
// typed values, or refuse with a reason the dispatcher sends as BAD (RFC 9051 section 9).
import type { Token } from '../../lib/imap/command-reader.ts';

export type ArgumentType = 'astring' | 'atom' | 'id-params' | 'astring?' | 'atom?';

export class ArgumentError extends Error {}

/** RFC 9051 astring: an atom, a quoted string or a literal. */
function astring(token: Token): string {
  if (token.kind === 'list') throw new ArgumentError('Expected a string, got a list');
  return token.kind === 'atom' ? token.value : token.value.toString('utf8');
}

function atom(token: Token): string {
  if (token.kind !== 'atom') throw new ArgumentError('Expected an atom');
  return token.value;
}

/** RFC 2971: id-params-list = "(" *(string SP nstring) ")" / nil; at most 30 pairs. */
function idParams(token: Token): Map<string, string | null> | null {
  if (token.kind === 'atom' && token.value.toUpperCase() === 'NIL') return null;
  if (token.kind !== 'list') throw new ArgumentError('ID expects a list of fields or NIL');
  if (token.items.length % 2 !== 0) throw new ArgumentError('ID fields come in pairs');
  if (token.items.length > 60) throw new ArgumentError('ID allows at most 30 fields');
  const params = new Map<string, string | null>();
  for (let i = 0; i < token.items.length; i += 2) {
    const field = token.items[i]!;
    const value = token.items[i + 1]!;
    if (field.kind !== 'string') throw new ArgumentError('ID field names are strings');
    const nil = value.kind === 'atom' && value.value.toUpperCase() === 'NIL';
    if (!nil && value.kind !== 'string') throw new ArgumentError('ID values are strings or NIL');
    params.set(field.value.toString('utf8').toLowerCase(), nil ? null : astring(value));
  }
  return params;
}

const READERS: Record<string, (token: Token) => unknown> = { astring, atom, 'id-params': idParams };

/** Reads a command's arguments by its grammar; throws ArgumentError with the reason. */
export function readArguments(grammar: readonly ArgumentType[], tokens: readonly Token[]): unknown[] {
  const required = grammar.filter((g) => !g.endsWith('?')).length;
  if (tokens.length < required || tokens.length > grammar.length) {
    const expected = required === grammar.length ? `${required}` : `${required} to ${grammar.length}`;
    throw new ArgumentError(
      `Expected ${expected} argument${grammar.length === 1 ? '' : 's'}, got ${tokens.length}`,
    );
  }
  return tokens.map((token, i) => READERS[grammar[i]!.replace('?', '')]!(token));
}
