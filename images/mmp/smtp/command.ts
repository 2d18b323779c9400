// The shape of an SMTP command before AUTH (docs/design.md, "Protocol command shape"), as for IMAP
// and POP3: a module per command declaring whether it needs EHLO first, and its handler; one
// dispatcher (dispatcher.ts) answers unknown commands and commands out of order once.

export interface SmtpCommandContext {
  readonly secure: boolean;
  readonly starttlsOffered: boolean;
  /** AUTH in clear (off: RFC 8314 section 3). */
  readonly plaintextLogin: boolean;
  /** A recent POP or IMAP login from the client's address may stand for AUTH. */
  readonly popBeforeSmtp: boolean;
  /** Our name, for the greeting and EHLO. */
  readonly hostname: string;
  /** The name the client gave in EHLO/HELO; undefined before it (and again after STARTTLS). */
  helo: string | undefined;
  /** The EHLO keywords after our name (RFC 5321 section 4.1.1.1). */
  extensions(): string[];
  /** Sends one reply line (CRLF added); a multi-line reply is one call with CRLFs inside. */
  send(line: string): void;
  /** The next line answers a 334 challenge (RFC 4954 section 4), and is not a command. */
  expectLine(handler: (line: string) => void): void;
  /** After the 220 already sent: discard what is unread and start the TLS handshake. */
  startTls(): void;
  /** Credentials to check; the shell answers with loginFailed or loginSucceeded. */
  login(login: string, password: string): void;
  /** No AUTH: ask whether a recent POP/IMAP login from this address stands for one. */
  loginByAddress(): void;
  close(): void;
}

export interface SmtpCommand {
  /** The verb, upper-cased; several verbs may share a module (RCPT, DATA, BDAT). */
  readonly names: readonly string[];
  /** EHLO or HELO must come first (RFC 5321 section 4.1.4: 503 otherwise). */
  readonly afterHelo: boolean;
  handle(context: SmtpCommandContext, verb: string, argument: string): void;
}
