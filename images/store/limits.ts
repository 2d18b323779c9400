// Every limit of the store, with the reason for its number. The engine, LMTP, POP3 and IMAP read
// them from here (IMAP's section is the IMAP server's), so a number is chosen once and explained once.
// Sizes in bytes, times in milliseconds unless the name says otherwise.

export const STORE_LIMITS = {
  /** Dovecot's and Cyrus's practical limit; longer names break client UIs and path limits. */
  mailboxNameBytes: 255,
  /** Deeper trees are an attack on recursive LIST, not a filing system. */
  mailboxDepth: 16,
  /** Thunderbird users with big archives reach a few hundred; 2,000 bounds LIST output and memory. */
  mailboxesPerAccount: 2000,
  /** Keywords per mailbox: each is in every FLAGS response; Dovecot limits to its index bits too. */
  keywordsPerMailbox: 200,
  /** RFC 9051 gives no limit; a keyword is an atom and 100 bytes is far above what clients set. */
  keywordBytes: 100,
  /** Values of the per-message cache (a parsed MIME tree of a big multipart is a few KiB). */
  cacheValueBytes: 64 * 1024,
  /** Accounts kept open after their last session ends, so a client that reconnects finds them warm. */
  idleAccountsKept: 500,
  idleAccountKeepMs: 60_000,
} as const;

export const LMTP_LIMITS = {
  /** RFC 5321 §4.5.3.1.4 allows 1000 per line including CRLF; we allow up to 4 KiB for long params. */
  commandLineBytes: 4096,
  /** RFC 5321 §4.5.3.1.8 says at least 100; the MTA tiers never send more in one transaction. */
  recipientsPerTransaction: 1000,
  /** Bad commands before 421: a confused or hostile peer should not keep a session. */
  errorsBeforeDisconnect: 10,
  /** RFC 5321 §4.5.3.2.7 suggests 5 minutes of idle for a server. */
  idleTimeoutMs: 5 * 60_000,
  /**
   * Client input read ahead and not yet handled (pipelined commands) before the socket is paused:
   * a whole pipelined group is a few KiB, and 64 KiB per connection keeps 10,000 of them in 640 MiB
   * at worst. DATA is streamed to disk as it comes and never waits here.
   */
  bufferedInputBytes: 64 * 1024,
} as const;

export const POP3_LIMITS = {
  /** RFC 2449 §4: commands are at most 255 octets including CRLF; SASL responses may be longer. */
  commandLineBytes: 255,
  /** An AUTH PLAIN response: authzid, authcid and secret, base64; 2 KiB is ample. */
  saslResponseBytes: 2048,
  /** RFC 1939 §3: the autologout timer must be at least 10 minutes. */
  idleTimeoutMs: 10 * 60_000,
  /** Failed logins before the session is closed: only the MMP logs in, so one failure is a bug. */
  authFailuresBeforeDisconnect: 3,
  /** Bad commands before -ERR and close. */
  errorsBeforeDisconnect: 20,
  /** Read-ahead per connection before the socket is paused (as LMTP's). */
  bufferedInputBytes: 64 * 1024,
} as const;
