// The directory the protocol tests share: a handful of mail users on slapd, and the config block
// (with secret files) a program needs to reach it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DirectoryConfig } from '../../images/lib/contract/common.ts';
import type { MailUser, Slapd } from './slapd.ts';

export const USERS: MailUser[] = [
  {
    uid: 'alice',
    password: 'alice-pw',
    mail: 'alice@example.test',
    aliases: ['a.lias@example.test'],
    mailHost: 'store-a',
  },
  { uid: 'bob', password: 'bob-pw', mail: 'bob@example.test', mailHost: 'store-b' },
  {
    uid: 'carol',
    password: 'carol-pw',
    mail: 'carol@example.test',
    forwardTo: ['alice@example.test', 'bob@example.test'],
  },
  { uid: 'dave', password: 'dave-pw', mail: 'dave@example.test', mailHost: 'notes1.legacy.test' },
  { uid: 'nohost', mail: 'nohost@example.test' },
];

export function directoryConfig(
  slapd: Slapd,
  dir: string,
  overrides: Partial<DirectoryConfig> = {},
): DirectoryConfig {
  const bindDNFile = join(dir, 'bindDN');
  const passwordFile = join(dir, 'bind-password');
  writeFileSync(bindDNFile, `${slapd.serviceDN}\n`);
  writeFileSync(passwordFile, `${slapd.servicePassword}\n`);
  return {
    urls: [slapd.url],
    baseDN: slapd.suffix,
    bindDNFile,
    passwordFile,
    attributes: {
      mail: 'mail',
      aliases: 'mailAlternateAddress',
      forwardTo: 'mailForwardingAddress',
      mailHost: 'mailHost',
      uid: 'uid',
    },
    cacheTTLSeconds: 30,
    timeoutMs: 1500,
    ...overrides,
  };
}
