// One catalogue of error codes that every layer uses (the way Nodemailer's ECONNECTION, ETLS, EAUTH…
// do), so that logs, metrics and tests speak the same words. A code says what kind of thing went
// wrong; the message says what exactly.

export const ERROR_CODES = {
  // Start-up and configuration
  ECONFIG: 'the config file is missing, is not JSON, or does not match the schema',
  ESECRET: 'a mounted secret file is missing or empty',
  ETLS: 'a certificate or key cannot be loaded, or a TLS handshake failed',
  // Peers
  EDIRECTORY: 'the directory cannot be reached or answered with an error',
  EAMBIGUOUS: 'the directory holds more than one entry for an address',
  EDNS: 'a DNS lookup failed',
  ECONNECTION: 'a connection to a peer could not be made or was lost (a client hanging up included)',
  ETIMEOUT: 'a peer or a client took longer than its deadline',
  EPROXY: 'a PROXY protocol header is malformed or missing',
  EPROTOCOL: 'a peer broke the protocol (a malformed command, reply or literal)',
  // Clients
  EAUTH: 'credentials were refused',
  ELOCKED: 'too many failures from a client address or for an account: refused for a while',
  ELIMIT: 'a limit was reached (message size, recipients, connections, rate, free space)',
  EMESSAGE: 'a message was refused for its content (SMTP smuggling, a malformed header)',
  EROUTE: 'no destination takes an address (no such user, no route, a forwarding loop)',
  // Storage
  ESPOOL: 'the queue on disk cannot be written or read',
  ESTORE: 'a mailbox cannot be written or read (the message store)',
  ESHUTDOWN: 'the program is shutting down',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class MtopoError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MtopoError';
    this.code = code;
  }
}

export function isMtopoError(error: unknown, code?: ErrorCode): error is MtopoError {
  return error instanceof MtopoError && (code === undefined || error.code === code);
}

/** A message for logs from anything thrown; never the stack of a foreign object. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
