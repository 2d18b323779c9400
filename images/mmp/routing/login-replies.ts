// What a client is told when its login does not end at its store, for both protocols, and whether
// the attempt counts against the client's and the account's penalty (only a wrong password or an
// unknown user does: a directory or a store that is down is our failure, not the client's).
// RFC 5530 codes for IMAP, RFC 3206 codes for POP3.

export type LoginFailure =
  /** Unknown user, wrong password, empty password: indistinguishable on purpose. */
  | 'bad-credentials'
  /** No directory URL answered: never reported as bad credentials. */
  | 'directory-down'
  /** The entry names no store this MMP serves (a legacy user, a typo in mailHost). */
  | 'no-store'
  /** No address of the user's store answered. */
  | 'store-down'
  /** The store refused the MMP's own login (the shared secret, or no such mailbox there). */
  | 'store-refused'
  /** Too many failures from this client or for this account: refused without checking. */
  | 'locked-out'
  /** SMTP without AUTH: no POP or IMAP login from this address within the POP-before-SMTP window. */
  | 'no-recent-login';

export interface LoginReply {
  imapCode: string;
  pop3Code: 'AUTH' | 'SYS/TEMP' | 'SYS/PERM';
  text: string;
  /** The SMTP submission reply (RFC 4954 section 6, RFC 3463): for SMTP the "store" is the outbound MTA. */
  smtp: string;
  /** Counts as a failed login for the penalty box. */
  penalize: boolean;
}

const REPLIES: Record<LoginFailure, LoginReply> = {
  'bad-credentials': {
    imapCode: 'AUTHENTICATIONFAILED',
    pop3Code: 'AUTH',
    text: 'Authentication failed',
    smtp: '535 5.7.8 Authentication credentials invalid',
    penalize: true,
  },
  'directory-down': {
    imapCode: 'UNAVAILABLE',
    pop3Code: 'SYS/TEMP',
    text: 'Cannot check your login now; try again later',
    smtp: '454 4.7.0 Cannot check your login now; try again later',
    penalize: false,
  },
  'no-store': {
    imapCode: 'UNAVAILABLE',
    pop3Code: 'SYS/PERM',
    text: 'Your mailbox is not served here',
    smtp: '454 4.7.0 Your account is not served here',
    penalize: false,
  },
  'store-down': {
    imapCode: 'UNAVAILABLE',
    pop3Code: 'SYS/TEMP',
    text: 'Your mailbox is unavailable now; try again later',
    smtp: '454 4.4.1 The mail relay is unavailable now; try again later',
    penalize: false,
  },
  'store-refused': {
    imapCode: 'UNAVAILABLE',
    pop3Code: 'SYS/TEMP',
    text: 'Your mailbox is unavailable now; try again later',
    smtp: '454 4.7.0 The mail relay is unavailable now; try again later',
    penalize: false,
  },
  'locked-out': {
    imapCode: 'UNAVAILABLE',
    pop3Code: 'SYS/TEMP',
    text: 'Too many failed logins; try again later',
    smtp: '454 4.7.0 Too many failed logins; try again later',
    penalize: false,
  },
  'no-recent-login': {
    imapCode: 'AUTHENTICATIONFAILED',
    pop3Code: 'AUTH',
    text: 'Authentication required',
    smtp: '530 5.7.0 Authentication required',
    penalize: false,
  },
};

export function loginReply(failure: LoginFailure): LoginReply {
  return REPLIES[failure];
}

/**
 * How long to wait before answering a failed login: every failure is answered no sooner than
 * `floorMs` after the attempt began, so an unknown user (one search) and a wrong password (a
 * search and a bind) take the same time; the penalty box's delay comes on top.
 */
export function failureDelayMs(elapsedMs: number, floorMs: number, penaltyMs: number): number {
  return Math.max(0, floorMs - elapsedMs) + penaltyMs;
}
