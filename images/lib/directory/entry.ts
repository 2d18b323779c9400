// What the mail programs need to know about a directory entry, read from an LDAP search result
// with the attribute names the site configured.
import type { Entry } from 'ldapts';
import type { DirectoryAttributes } from './filters.ts';

export interface DirectoryEntry {
  dn: string;
  /** The login name; the identity a session takes, whatever case or spacing the client typed. */
  uid: string | undefined;
  /** The primary address. */
  mail: string | undefined;
  aliases: string[];
  /** Where mail for this entry is forwarded (besides, or instead of, its mailbox). */
  forwardTo: string[];
  /** Which store holds the mailbox, or a host on a legacy system. */
  mailHost: string | undefined;
}

function values(entry: Entry, attribute: string): string[] {
  // Servers answer with the attribute name as defined in their schema (mailHost, not mailhost),
  // which need not match the case the site wrote in its config.
  const wanted = attribute.toLowerCase();
  for (const [key, value] of Object.entries(entry)) {
    if (key.toLowerCase() !== wanted || key === 'dn') continue;
    const list = Array.isArray(value) ? value : [value];
    return list.map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v))).filter((v) => v.length > 0);
  }
  return [];
}

export function toDirectoryEntry(entry: Entry, attributes: DirectoryAttributes): DirectoryEntry {
  return {
    dn: entry.dn,
    uid: values(entry, attributes.uid)[0],
    mail: values(entry, attributes.mail)[0],
    aliases: values(entry, attributes.aliases),
    forwardTo: values(entry, attributes.forwardTo),
    mailHost: values(entry, attributes.mailHost)[0],
  };
}

export function requestedAttributes(attributes: DirectoryAttributes): string[] {
  return [attributes.uid, attributes.mail, attributes.aliases, attributes.forwardTo, attributes.mailHost];
}
