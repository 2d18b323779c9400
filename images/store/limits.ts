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
  /**
   * Messages up to this size are kept in memory once read (mailbox/small-message-cache.ts): a
   * typical mail is 4–50 KiB, and clients read the same ones many times (headers, then body).
   */
  smallMessageBytes: 64 * 1024,
  /** All of them together, for the process: 32 MiB is some thousand messages, a small part of RSS. */
  smallMessageCacheBytes: 32 * 1024 * 1024,
  /** Accounts kept open after their last session ends, so a client that reconnects finds them warm. */
  idleAccountsKept: 500,
  idleAccountKeepMs: 60_000,
  /**
   * Messages of mailboxes no session has selected, kept loaded while their account is open so the
   * next SELECT reads no index (mailbox/retained-mailboxes.ts): about 400 bytes each in memory
   * (measured: the message, its flags and the map's entry), so 50,000 are some 20 MiB for the
   * process, beside the small-message cache's 32; a mailbox of up to 5,000 is kept.
   */
  retainedMessages: 50_000,
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

/** IMAP (images/store/imap). Sizes in bytes, durations in seconds. */
export const imapLimits = {
  /**
   * One line of a command, literals excluded. RFC 7162 section 4 asks clients to keep lines within
   * 8192 octets, but a UID set after a long sync (Thunderbird, mbsync) or a SEARCH with many keys
   * runs longer; Dovecot allows 64 KiB. Beyond that the line is refused and the rest of it dropped.
   */
  maxLineBytes: 64 * 1024,
  /**
   * A literal in any command but APPEND (a mailbox name, a SEARCH string, a SASL response): none
   * needs more than a few KiB. APPEND's literals are bounded by the message size limit instead.
   */
  maxLiteralBytes: 64 * 1024,
  /** RFC 7888 section 4: with LITERAL- a non-synchronizing literal may be at most 4096 octets. */
  maxLiteralMinusBytes: 4096,
  /**
   * APPEND literals from this size on (or past it for one command's literals together) go to the
   * message file as they arrive instead of into memory: a 30 MB APPEND costs the session a few
   * buffers, not 30 MB (twice, with the copy). Below it, one write of the whole message is cheaper.
   */
  streamAppendLiteralBytes: 256 * 1024,
  /**
   * Everything one command may carry (lines and literals together), so MULTIAPPEND cannot make the
   * session hold more than this in memory. Four times the largest message leaves room for a few
   * messages at once; the message size limit itself comes from the config (APPENDLIMIT).
   */
  maxCommandMessages: 4,
  /**
   * A non-synchronizing literal over its limit was sent anyway (the client did not wait for us to
   * refuse it): its bytes are read and dropped, up to this much; more and the session ends.
   */
  maxDiscardBytes: 256 * 1024 * 1024,
  /**
   * Parentheses within one command. Real SEARCH programs nest a few levels (Thunderbird's OR chains
   * reach about 10); FETCH and BODYSTRUCTURE need 3. Deeper input is an attack on the recursion.
   */
  maxNestingDepth: 32,
  /** Tokens in one command: a SEARCH of thousands of keys is not a client, it is a load generator. */
  maxTokens: 10_000,
  /** MIME parts within one message for BODYSTRUCTURE and sections (mailsplit's maxChildNodes). */
  maxMimeParts: 1000,
  /** message/rfc822 within message/rfc822: each level is parsed again, so the depth is bounded. */
  maxMessageNesting: 8,
  /** Bad commands in a row before `* BYE`: a client that sends this many is not going to recover. */
  maxBadCommands: 20,
  /**
   * After a handback (imap/handback.ts): what a client sent behind its LOGOUT before the MMP stopped
   * reading it, dropped until the MMP's resync line. A few lines in practice; past this the
   * connection is closed and the MMP opens another.
   */
  handbackDiscardBytes: 1024 * 1024,
  /** Before login: the MMP logs in at once; a connection that does not is not the MMP. */
  preauthTimeoutSeconds: 60,
  /** RFC 3501 section 5.4: the autologout timer, if any, is at least 30 minutes. */
  idleTimeoutSeconds: 30 * 60,
  /**
   * Sessions of one user at once, on this replica. Every session arrives through the MMP, so the
   * client's own address does not tell clients apart; a phone, a laptop and a webmail each hold a
   * few (Thunderbird keeps 5 per account), and 50 leaves room for a family of devices.
   */
  maxSessionsPerUser: 50,
  /**
   * Commands per second one session is served; past it the session is slowed (its next command
   * waits for the next second), not closed, so a bulk upload or a sync pipelining thousands of UID
   * commands just takes longer, while a flood (IDLE/DONE in a loop) cannot take more than its share.
   */
  maxCommandsPerSecond: 1000,
  /**
   * A big message (from 1 MiB) goes into its FETCH literal straight from its file, through buffers
   * of this size that the process reuses (imap/literal-copy.ts). One read and one write per chunk:
   * larger chunks mean fewer trips through the thread pool and fewer write(2)s per MiB. Measured on
   * the FETCH benchmark (1 MiB messages): 1 MiB chunks 1.0–1.2 CPU ms per MiB, 256 KiB 1.6–2.1.
   */
  fetchChunkBytes: 1024 * 1024,
  /**
   * Chunks of one copy in flight at once: one is read from the file while the other is on its way
   * to the client. With the output bound below, a session sending a big message holds at most this
   * many chunks, whatever the message's size.
   */
  fetchBuffersPerCopy: 2,
  /** Free chunk buffers kept for the next copy (8 MiB); more are left to the GC. */
  fetchBuffersKept: 8,
  /** Bytes of responses waiting for a slow reader before the session stops reading its commands. */
  maxPendingOutputBytes: 4 * 1024 * 1024,
  /**
   * Decoded, case-folded header values (a SUBJECT, a FROM) that SEARCH looked at, for the process:
   * a message is the same for as long as its mailbox's UIDVALIDITY (RFC 9051 2.3.1.1), and clients
   * search the same fields again and again. 50,000 values of some 100 bytes are about 5 MiB.
   */
  searchHeaderValues: 50_000,
  /** A field's values longer than this (in all) are not kept, so the cache holds at most ~50 MiB. */
  searchHeaderValueChars: 1024,
  /** Parsed messages (MIME structure, envelope) kept per session for FETCH and SEARCH. */
  messageViewCacheEntries: 200,
} as const;
