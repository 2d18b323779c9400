// The one LDAP URL parser (RFC 4516, the server part only: scheme, host, port). The operator checks
// the URLs a user writes with it, the diagram and the firewall read the hosts from it, and the
// directory client connects with it, so all three read "ldaps://ldap-1.corp.example:636" alike.
import { z } from 'zod';

export interface LdapUrl {
  readonly scheme: 'ldap' | 'ldaps';
  readonly host: string;
  readonly port: number;
  /** ldaps: TLS from the first byte (port 636 by default). */
  readonly tls: boolean;
}

/** Default ports: 389 for ldap (RFC 4516 section 2), 636 for ldaps. */
const DEFAULT_PORT = { ldap: 389, ldaps: 636 } as const;

// A host name or IPv4 address, or an IPv6 address in brackets; then an optional port and slash.
const LDAP_URL =
  /^(ldaps?):\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::(\d{1,5}))?\/?$/;

export function parseLdapUrl(text: string): LdapUrl | undefined {
  const match = LDAP_URL.exec(text);
  if (!match) return undefined;
  const scheme = match[1] as 'ldap' | 'ldaps';
  const port = match[3] === undefined ? DEFAULT_PORT[scheme] : Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  return { scheme, host: match[2]!.replace(/^\[|\]$/g, ''), port, tls: scheme === 'ldaps' };
}

const LDAP_URL_MESSAGE = 'must be "ldap://host[:port]" or "ldaps://host[:port]"';

/**
 * An LDAP URL in a config or an API field. The pattern goes into the CRD (the API server refuses a
 * bad URL); the parse adds what a pattern cannot say (the port's range).
 */
export const ldapUrl = z
  .string()
  .max(512)
  .regex(LDAP_URL, LDAP_URL_MESSAGE)
  .refine((u) => parseLdapUrl(u) !== undefined, LDAP_URL_MESSAGE);
