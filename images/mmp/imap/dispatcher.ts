// The one dispatcher of pre-login IMAP commands: unknown command, wrong state and wrong arguments
// are answered here, once, with BAD (RFC 9051 section 7.1.5); a handler's exception becomes
// NO [SERVERBUG] and the session goes on.
import type { ImapCommand, ImapCommandContext, ImapState } from './command.ts';
import { ArgumentError, readArguments } from './grammar.ts';
import type { ParsedCommand } from '../../lib/imap/command-reader.ts';

/** "bad" when the client erred (counted towards the limit of bad commands). */
export type DispatchResult = 'handled' | 'bad' | 'failed';

export function dispatch(
  commands: ReadonlyMap<string, ImapCommand>,
  state: ImapState,
  context: ImapCommandContext,
  { tag, name, args }: ParsedCommand,
): DispatchResult {
  const command = commands.get(name);
  if (!command) {
    context.send(`${tag} BAD Unknown command or not valid before login`);
    return 'bad';
  }
  if (!command.states.includes(state)) {
    context.send(`${tag} BAD ${name} is not valid in the ${state} state`);
    return 'bad';
  }
  let values: unknown[];
  try {
    values = readArguments(command.grammar, args);
  } catch (error) {
    if (!(error instanceof ArgumentError)) throw error;
    context.send(`${tag} BAD ${name}: ${error.message}`);
    return 'bad';
  }
  try {
    command.handle(context, tag, values);
    return 'handled';
  } catch {
    context.send(`${tag} NO [SERVERBUG] Internal error; try again`);
    return 'failed';
  }
}
