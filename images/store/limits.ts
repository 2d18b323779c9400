// Every limit of the store program, each with the reason for its number. Sections per protocol;
// a section is owned by the engineer of that protocol.

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
   * Commands per second a session may send, averaged over a burst of as many: a client this fast
   * is scripted. An IDLE flood (IDLE/DONE in a loop) counts here too.
   */
  maxCommandsPerSecond: 200,
  /** Bytes of responses waiting for a slow reader before the session stops reading its commands. */
  maxPendingOutputBytes: 4 * 1024 * 1024,
  /** Parsed messages (MIME structure, envelope) kept per session for FETCH and SEARCH. */
  messageViewCacheEntries: 200,
} as const;
