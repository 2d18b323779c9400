// The one dispatcher (docs/design.md, "Protocol command shape"): it finds the command's module,
// enforces the state and the argument grammar, runs the handler, turns the engine's errors into
// response codes, and sends the other sessions' changes where RFC 9051 7.4.1 allows.
import { isStoreError } from '../mailbox/api.ts';
import {
  ArgumentError,
  bad,
  no,
  readArguments,
  type CommandResult,
  type ImapCommand,
  type SessionState,
} from './command.ts';
import { COMMANDS } from './commands/index.ts';
import type { ParsedCommand } from '../../lib/imap/command-reader.ts';
import type { ImapSession } from './session.ts';

const REGISTRY = new Map<string, ImapCommand>(COMMANDS.map((c) => [c.name, c]));

const STATE_TEXT: Record<SessionState, string> = {
  'not-authenticated': 'before login',
  authenticated: 'without a selected mailbox',
  selected: 'with a mailbox selected',
  logout: 'after LOGOUT',
};

// RFC 9051 7.4.1: no EXPUNGE while responding to FETCH, STORE or SEARCH (their sequence numbers
// would shift under the client); the UID forms may have them.
const NO_EXPUNGE = new Set(['FETCH', 'STORE', 'SEARCH', 'COPY', 'SORT', 'THREAD']);

/** The command's name for metrics and logs: a registered name, never the client's own text. */
export function commandLabel(name: string): string {
  return REGISTRY.has(name) ? name : 'UNKNOWN';
}

export async function dispatch(session: ImapSession, command: ParsedCommand): Promise<CommandResult> {
  const module = REGISTRY.get(command.name);
  if (!module) return bad(`Unknown command ${command.name.slice(0, 40)}`);
  if (!module.states.includes(session.state)) {
    return bad(`${command.name} is not valid ${STATE_TEXT[session.state]}`);
  }
  let args: unknown[];
  try {
    args = readArguments(module.grammar, command.args, session.utf8);
  } catch (error) {
    if (error instanceof ArgumentError) return bad(`${command.name}: ${error.message}`);
    throw error;
  }
  let result: CommandResult;
  try {
    result = await module.handle(session, args as never, command.tag);
  } catch (error) {
    result = failure(session, command.name, error);
  }
  if (session.selected && !session.isClosed) sendUpdates(session, !NO_EXPUNGE.has(command.name));
  return result;
}

export function failure(session: ImapSession, name: string, error: unknown): CommandResult {
  if (error instanceof ArgumentError) return bad(`${name}: ${error.message}`);
  if (isStoreError(error)) {
    if (error.tryCreate) return no(error.message, 'TRYCREATE');
    return no(error.message, error.code);
  }
  session.options.log?.warn(
    { command: name, err: error instanceof Error ? error.message : String(error) },
    'IMAP command failed',
  );
  return no('Internal error, try again later', 'SERVERBUG');
}

/** Untagged EXISTS / EXPUNGE / VANISHED / FETCH for what other sessions changed. */
export function sendUpdates(session: ImapSession, allowExpunge: boolean): void {
  const selected = session.selected;
  if (!selected) return;
  const responses = selected.update({
    allowExpunge,
    qresync: session.enabled.has('QRESYNC'),
    condstore: session.condstore,
    rev1: !session.rev2,
  });
  for (const response of responses) session.untagged(response);
  if (selected.gone) session.bye('The selected mailbox was deleted by another session');
}
