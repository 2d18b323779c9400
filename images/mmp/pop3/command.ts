// The shape of a POP3 command before login (docs/design.md, "Protocol command shape"), as for IMAP:
// a module per command with its states, its argument grammar and its handler; one dispatcher.

export type Pop3State = 'authorization' | 'tls-starting' | 'logging-in' | 'proxying' | 'closed';

/** word: one argument without spaces; rest: the rest of the line (a password may hold spaces). */
export type Pop3ArgumentType = 'word' | 'word?' | 'rest';

export interface Pop3CommandContext {
  readonly secure: boolean;
  readonly starttlsOffered: boolean;
  readonly plaintextLogin: boolean;
  capabilities(): readonly string[];
  /** The name USER gave, waiting for PASS. */
  user: string | undefined;
  send(line: string): void;
  expectLine(handler: (line: string) => void): void;
  startTls(): void;
  login(login: string, password: string): void;
  close(): void;
}

export interface Pop3Command<Args extends unknown[] = unknown[]> {
  readonly name: string;
  readonly states: readonly Pop3State[];
  readonly grammar: readonly Pop3ArgumentType[];
  handle(context: Pop3CommandContext, args: Args): void;
}

export function pop3Command<Args extends unknown[]>(command: Pop3Command<Args>): Pop3Command {
  return command as unknown as Pop3Command;
}
