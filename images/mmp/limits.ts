// Every limit of the Messaging Multiplexor, each with the reason for its number. Before login the
// MMP parses what a client sends and holds it in memory, so every byte it will hold is bounded here;
// after login it parses nothing (the two sockets are spliced) and only time and connection counts
// are bounded. Sizes in bytes, durations in milliseconds.

/** IMAP before login (RFC 9051, RFC 3501). */
export const imapPreLoginLimits = {
  /**
   * One command line, literals excluded. Before login a client sends CAPABILITY, ID, STARTTLS,
   * LOGIN and AUTHENTICATE: none needs more than a few hundred bytes. RFC 7162 section 4 asks
   * clients to keep lines within 8192 octets, so that is what we accept; longer lines are refused
   * and the rest of the line dropped as it arrives.
   */
  maxLineBytes: 8192,
  /**
   * One literal: a user name, a password or an ID value. RFC 2971 section 3.3 bounds ID values at
   * 1024 octets; RFC 4616 bounds each SASL PLAIN field at 255 octets. 4096 leaves room for both.
   */
  maxLiteralBytes: 4096,
  /** Lines and literals of one command together: the most one command makes us hold. */
  maxCommandBytes: 16 * 1024,
  /**
   * A non-synchronizing literal we refused was sent anyway: its bytes are read and dropped, up to
   * this much (anything larger ends the session; no login needs it).
   */
  maxDiscardBytes: 64 * 1024,
  /** Parentheses: ID's field list is one level; anything deeper is not a login. */
  maxNestingDepth: 2,
  /** Tokens in one command: ID has at most 30 field-value pairs (RFC 2971 section 3.3). */
  maxTokens: 64,
  /** BAD commands before `* BYE`: a client that errs this often is not going to log in. */
  maxBadCommands: 10,
  /**
   * Commands before login, all told. A real client logs in within five (CAPABILITY, ID, STARTTLS,
   * CAPABILITY, LOGIN); a NOOP loop would otherwise hold a connection for the whole timeout.
   */
  maxCommands: 50,
} as const;

/** POP3 before login (RFC 1939, RFC 2449, RFC 5034). */
export const pop3PreLoginLimits = {
  /**
   * RFC 2449 section 4 raises the command line limit to 255 octets, but AUTH PLAIN with its initial
   * response (RFC 5034 section 4) carries base64 of up to 3 × 255 octets: about 1030 bytes.
   */
  maxLineBytes: 2048,
  /** Commands with an error before `-ERR` and close, as for IMAP. */
  maxBadCommands: 10,
  maxCommands: 50,
} as const;

/** SMTP submission before AUTH (RFC 5321, RFC 4954). */
export const smtpPreAuthLimits = {
  /**
   * RFC 5321 section 4.5.3.1.4 allows 512 octets per command line, but AUTH PLAIN with its initial
   * response (RFC 4954 section 4) carries base64 of up to 3 × 255 octets (about 1030 bytes), and
   * EHLO names and MAIL parameters run longer in practice: 4096, as for reply lines.
   */
  maxLineBytes: 4096,
  /** Erring commands before 421: a client that errs this often is not going to authenticate. */
  maxBadCommands: 10,
  /** EHLO, STARTTLS, EHLO, AUTH: a real client needs four or five. */
  maxCommands: 50,
} as const;

/** Timing of a login, all three protocols. */
export const loginLimits = {
  /**
   * From connect to a successful login, all told. Dovecot's login processes allow a minute; a
   * client that has not logged in by then is a scanner holding a connection slot.
   */
  preLoginTimeoutMs: 60_000,
  /**
   * A failed login is answered no sooner than this after the attempt began, whether the user was
   * unknown (one search) or the password wrong (a search and a bind): the answer's timing must not
   * tell the two apart (no user enumeration). Above a directory bind on a loaded machine.
   */
  failureFloorMs: 400,
  /**
   * The directory's answer, from the first URL to the last: past this the client gets a temporary
   * failure, never an AUTHENTICATIONFAILED it did not earn.
   */
  directoryTimeoutMs: 10_000,
  /** Connecting to one store address (TCP and, when configured, TLS). */
  storeConnectTimeoutMs: 5_000,
  /** The store's greeting and its answer to our login, per address. */
  storeLoginTimeoutMs: 10_000,
  /**
   * A store's response lines before the splice (its greeting, CAPABILITY code, the login's answer):
   * Dovecot's capability line is about 500 bytes; 64 KiB is generous and still bounded.
   */
  maxStoreLineBytes: 64 * 1024,
  /**
   * Bytes a client may pipeline behind its login while we log in for it: they are handed to the
   * store after the login, so they are held meanwhile. A real client pipelines a SELECT or two.
   */
  maxPipelinedBytes: 64 * 1024,
} as const;

/** After login: the splice. */
export const spliceLimits = {
  /**
   * No byte in either direction for this long ends the session. RFC 9051 section 5.4: an IDLE
   * client re-issues IDLE every 29 minutes, so at least 30 minutes (the config may raise it).
   */
  minIdleTimeoutMs: 30 * 60_000,
  /**
   * Unsent bytes one side of a splice may hold before the other side is no longer read: enough to
   * keep reading a bulk FETCH while the client's socket drains (four 64 KiB reads), and bounded per
   * session (an idle session holds nothing).
   */
  maxBufferedBytes: 256 * 1024,
} as const;

/**
 * How long a store's resolved addresses are reused. A store pod that moves gets a new address in
 * its headless Service within seconds; a login that finds the old one dead tries the next address
 * and, after this, resolves again.
 */
export const STORE_ADDRESS_TTL_MS = 5_000;

/**
 * Store connections opened ahead of logins (warm-connections.ts). Four per store address cover a
 * burst of logins while the next ones connect; twenty seconds is well below the pre-login timeout
 * of our store and of Dovecot (a minute), so a connection is never used as the store closes it.
 * What a store may send before a login: its greeting, a capability line at most. Sixty-four per
 * address at most with those our store hands back after LOGOUT: as many sessions as end at once.
 */
export const warmStoreConnections = {
  perAddress: 4,
  maxPerAddress: 64,
  maxAgeMs: 20_000,
  maxReceivedBytes: 64 * 1024,
} as const;

/** How many directory answers the login cache keeps, per replica (about 300 bytes each). */
export const loginCacheEntries = 50_000;
