// The shape of an IMAP command before login (docs/design.md, "Protocol command shape"): each command
// is a module declaring the states it is valid in, its argument grammar and its handler; the
// dispatcher enforces state and arity once, so a handler never checks either.
import type { ArgumentType } from './grammar.ts';

export type ImapState = 'not-authenticated' | 'tls-starting' | 'logging-in' | 'proxying' | 'logged-out';

/** What a handler may do with the session. */
export interface ImapCommandContext {
  readonly secure: boolean;
  readonly starttlsOffered: boolean;
  readonly plaintextLogin: boolean;
  capabilities(): readonly string[];
  /** Sends one response line (CRLF added). */
  send(line: string): void;
  /** The next client line is the answer to a continuation request (SASL), not a command. */
  expectLine(handler: (line: Buffer) => void): void;
  /** After the OK already sent: discard what is unread and start the TLS handshake. */
  startTls(): void;
  /** Credentials to check; the shell answers with loginFailed or loginSucceeded. */
  login(tag: string, login: string, password: string): void;
  /** Ends the session after what was sent. */
  close(): void;
}

export interface ImapCommand<Args extends unknown[] = unknown[]> {
  readonly name: string;
  readonly states: readonly ImapState[];
  /** One entry per argument; "?" marks an optional one (only at the end). */
  readonly grammar: readonly ArgumentType[];
  handle(context: ImapCommandContext, tag: string, args: Args): void;
}

/** Helps a module declare its command with its argument types inferred from its handler. */
export function imapCommand<Args extends unknown[]>(command: ImapCommand<Args>): ImapCommand {
  return command as unknown as ImapCommand;
}
