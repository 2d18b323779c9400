// LDAP search filters for mail lookups. Every value from a client goes into an ldapts filter object
// (EqualityFilter/OrFilter), which sends it as a BER octet string: no character of an address can
// change the filter's structure. A filter pasted together as text lets `*` match every user (seen on
// slapd) and `)(` rewrite the query.
import { EqualityFilter, OrFilter, type Filter } from 'ldapts';
import type { DirectoryConfig } from '../contract/common.ts';

export type DirectoryAttributes = DirectoryConfig['attributes'];

/** Entries that receive mail for `address`: as their primary address or as one of their aliases. */
export function recipientFilter(attributes: DirectoryAttributes, address: string): Filter {
  return new OrFilter({
    filters: [
      new EqualityFilter({ attribute: attributes.mail, value: address }),
      new EqualityFilter({ attribute: attributes.aliases, value: address }),
    ],
  });
}

/** The entry a user logs in as: by user id, or by primary mail address. */
export function loginFilter(attributes: DirectoryAttributes, login: string): Filter {
  return new OrFilter({
    filters: [
      new EqualityFilter({ attribute: attributes.uid, value: login }),
      new EqualityFilter({ attribute: attributes.mail, value: login }),
    ],
  });
}
