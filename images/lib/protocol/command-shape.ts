// What every line protocol's command modules share (docs/design.md, "Protocol command shape"): a
// command names the states it is valid in and the grammar of its arguments, and its handler gets
// the arguments typed from that grammar. Each protocol (the store's IMAP and POP3, the MMP's
// pre-login protocols) supplies its own argument readers (`Types`: reader name → value type), its
// session, its states and its result.

/** A reader's name; a trailing "?" makes the argument optional. "rest" takes whatever is left. */
export type GrammarEntryOf<Types> = (keyof Types & string) | `${Exclude<keyof Types & string, 'rest'>}?`;

/** The handler's argument tuple for a grammar: each entry's value type, `| undefined` if optional. */
export type ArgumentsOfGrammar<Types, G extends readonly GrammarEntryOf<Types>[]> = {
  -readonly [I in keyof G]: G[I] extends `${infer K extends keyof Types & string}?`
    ? Types[K] | undefined
    : G[I] extends keyof Types
      ? Types[G[I]]
      : never;
};

/** An argument does not fit its grammar: the dispatcher answers with the protocol's BAD / -ERR. */
export class ArgumentError extends Error {}
