// The one dispatcher of SMTP commands before AUTH: unknown verbs (500) and commands before EHLO
// (503) are answered here, once; a handler's exception becomes a 451 and the session goes on.
import type { SmtpCommand, SmtpCommandContext } from './command.ts';

export type DispatchResult = 'handled' | 'bad' | 'failed';

/** RFC 5321 section 4.1.1: a verb, then, after one space, its argument. */
export function dispatch(
  commands: ReadonlyMap<string, SmtpCommand>,
  context: SmtpCommandContext,
  line: string,
): DispatchResult {
  const space = line.indexOf(' ');
  const verb = (space < 0 ? line : line.slice(0, space)).toUpperCase();
  const argument = space < 0 ? '' : line.slice(space + 1).trim();
  const command = commands.get(verb);
  if (!command) {
    context.send('500 5.5.1 Command unrecognized');
    return 'bad';
  }
  if (command.afterHelo && context.helo === undefined) {
    context.send('503 5.5.1 Send EHLO first');
    return 'bad';
  }
  try {
    command.handle(context, verb, argument);
    return 'handled';
  } catch {
    context.send('451 4.3.0 Internal error; try again');
    return 'failed';
  }
}
