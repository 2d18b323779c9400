// The one dispatcher of pre-login POP3 commands: unknown command, wrong state and wrong arguments
// are answered here with -ERR, once; a handler's exception becomes -ERR [SYS/TEMP].
import type { Pop3Command, Pop3CommandContext, Pop3State } from './command.ts';

export type DispatchResult = 'handled' | 'bad' | 'failed';

/** RFC 1939 section 3: a keyword, then arguments separated by single spaces. */
export function dispatch(
  commands: ReadonlyMap<string, Pop3Command>,
  state: Pop3State,
  context: Pop3CommandContext,
  line: string,
): DispatchResult {
  const space = line.indexOf(' ');
  const name = (space < 0 ? line : line.slice(0, space)).toUpperCase();
  const rest = space < 0 ? undefined : line.slice(space + 1);
  const command = commands.get(name);
  if (!command) {
    context.send('-ERR Unknown command or not valid before login');
    return 'bad';
  }
  if (!command.states.includes(state)) {
    context.send(`-ERR ${name} is not valid in the ${state} state`);
    return 'bad';
  }
  const args = readArguments(command.grammar, rest);
  if (typeof args === 'string') {
    context.send(`-ERR ${name}: ${args}`);
    return 'bad';
  }
  try {
    command.handle(context, args);
    return 'handled';
  } catch {
    context.send('-ERR [SYS/TEMP] Internal error; try again');
    return 'failed';
  }
}

/** The arguments by the command's grammar, or the reason they do not fit. */
function readArguments(grammar: readonly string[], rest: string | undefined): unknown[] | string {
  if (grammar[0] === 'rest') return [rest ?? ''];
  const words = rest === undefined || rest === '' ? [] : rest.split(' ');
  const required = grammar.filter((g) => !g.endsWith('?')).length;
  if (words.length < required || words.length > grammar.length || words.some((w) => w === '')) {
    return `Expected ${required === grammar.length ? required : `${required} to ${grammar.length}`} arguments`;
  }
  return words;
}
