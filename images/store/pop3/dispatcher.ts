// The one POP3 dispatcher (docs/design.md, "Protocol command shape"): finds the command's module,
// enforces the state and the grammar, runs the handler, turns engine errors into RFC 2449 codes,
// and writes the reply — a multi-line body dot-stuffed and streamed with backpressure.
import { Readable } from 'node:stream';
import { isStoreError } from '../mailbox/api.ts';
import { dotStuff } from '../protocol/dot-data.ts';
import { ArgumentError, err, readArguments, type Pop3Command, type Pop3Reply } from './command.ts';
import { COMMANDS } from './commands/index.ts';
import type { Pop3Session } from './session.ts';

const REGISTRY = new Map<string, Pop3Command>(COMMANDS.map((c) => [c.name, c]));

/** Runs one command line; returns the reply, not yet written. */
export async function dispatch(session: Pop3Session, verb: string, argument: string): Promise<Pop3Reply> {
  const command = REGISTRY.get(verb);
  if (!command) return err(`Unknown command ${verb.slice(0, 20)}`);
  if (!command.states.includes(session.state))
    return err(
      session.state === 'authorization'
        ? `${verb} is valid only after login`
        : `${verb} is valid only before login`,
    );
  let args: unknown[];
  try {
    args = readArguments(command.grammar, argument, (n) => session.maildrop.exists(n));
  } catch (error) {
    if (error instanceof ArgumentError) return err(`${verb}: ${error.message}`);
    throw error;
  }
  try {
    return await command.handle(session, args as never);
  } catch (error) {
    if (isStoreError(error, 'EXPUNGEISSUED')) return err('That message was deleted by another session');
    if (isStoreError(error, 'UNAVAILABLE')) return err('The store is shutting down, try again', 'SYS/TEMP');
    session.options.logger.warn({ command: verb, err: (error as Error).message }, 'POP3 command failed');
    return err('Internal error, try again later', 'SYS/TEMP');
  }
}

/** Writes a reply; a body is dot-stuffed (RFC 1939 §3) and ends with CRLF "." CRLF. */
export async function writeReply(session: Pop3Session, reply: Pop3Reply): Promise<void> {
  if (reply.silent) return;
  const code = reply.code ? `[${reply.code}] ` : '';
  session.send(`${reply.ok ? '+OK' : '-ERR'}${reply.text || code ? ' ' : ''}${code}${reply.text}\r\n`);
  if (!reply.body) return;
  if (!(reply.body instanceof Readable)) {
    for (const line of reply.body) session.send(`${line.startsWith('.') ? '.' : ''}${line}\r\n`);
    session.send('.\r\n');
    return;
  }
  let atLineStart = true;
  let last = 0x0a;
  for await (const chunk of reply.body as AsyncIterable<Buffer>) {
    if (chunk.length === 0) continue;
    const stuffed = dotStuff(chunk, atLineStart);
    atLineStart = stuffed.atLineStart;
    last = chunk[chunk.length - 1]!;
    await session.sendWithBackpressure(stuffed.data);
  }
  // A message that does not end with a line break gets one, so the terminator is a line of its own.
  session.send(last === 0x0a ? '.\r\n' : '\r\n.\r\n');
}
