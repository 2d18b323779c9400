// A private OpenLDAP slapd on a free loopback port, in the foreground (`-d 0`) so its PID is the
// child's, with back-mdb and the schemas a mail directory needs. The fixture adds a tiny schema for
// the Sun-style attribute names the operator defaults to (mailAlternateAddress,
// mailForwardingAddress) under the RFC 5612 example enterprise number.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../support/free-ports.ts';
import { ManagedProcess, run } from '../support/processes.ts';

export interface MailUser {
  uid: string;
  password?: string;
  mail: string;
  aliases?: string[];
  forwardTo?: string[];
  mailHost?: string;
}

export interface Slapd {
  url: string;
  port: number;
  suffix: string;
  adminDN: string;
  adminPassword: string;
  /** A read-only service account, the way a site gives one to mtopo. */
  serviceDN: string;
  servicePassword: string;
  process: ManagedProcess;
  addUsers(users: MailUser[]): Promise<void>;
  /** Runs ldapmodify with the admin identity. */
  modify(ldif: string): Promise<void>;
  /** Its log: one line per operation (BIND, SRCH, RESULT) when started with logOperations. */
  log(): string;
  stop(): Promise<void>;
}

const MAIL_SCHEMA = `
attributetype ( 1.3.6.1.4.1.32473.1.1.1 NAME 'mailAlternateAddress'
  DESC 'another address that receives mail for this entry'
  EQUALITY caseIgnoreIA5Match SUBSTR caseIgnoreIA5SubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.26{256} )
attributetype ( 1.3.6.1.4.1.32473.1.1.2 NAME 'mailForwardingAddress'
  DESC 'where mail for this entry is forwarded'
  EQUALITY caseIgnoreIA5Match SUBSTR caseIgnoreIA5SubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.26{256} )
objectclass ( 1.3.6.1.4.1.32473.1.2.1 NAME 'mtopoMailRecipient' SUP top AUXILIARY
  MAY ( mailAlternateAddress $ mailForwardingAddress ) )
`;

export function userLdif(suffix: string, user: MailUser): string {
  const lines = [
    `dn: uid=${user.uid},ou=people,${suffix}`,
    'objectClass: inetOrgPerson',
    'objectClass: inetLocalMailRecipient',
    'objectClass: mtopoMailRecipient',
    `uid: ${user.uid}`,
    `cn: ${user.uid}`,
    `sn: ${user.uid}`,
    `mail: ${user.mail}`,
    ...(user.aliases ?? []).map((a) => `mailAlternateAddress: ${a}`),
    ...(user.forwardTo ?? []).map((a) => `mailForwardingAddress: ${a}`),
    ...(user.mailHost ? [`mailHost: ${user.mailHost}`] : []),
    ...(user.password ? [`userPassword: ${user.password}`] : []),
  ];
  return `${lines.join('\n')}\n`;
}

/** What a mail directory's slapd is configured with (the protocol tests' and the directory image's). */
export interface DirectoryLayout {
  /** Where slapd.conf, mail.schema, the pid/args files and db/ live. */
  readonly dir: string;
  readonly suffix: string;
  readonly adminDN: string;
  readonly adminPassword: string;
  readonly serviceDN: string;
  readonly servicePassword: string;
}

export function directoryLayout(dir: string): DirectoryLayout {
  const suffix = 'dc=example,dc=test';
  return {
    dir,
    suffix,
    adminDN: `cn=admin,${suffix}`,
    adminPassword: 'admin-secret',
    serviceDN: `cn=mtopo,ou=services,${suffix}`,
    servicePassword: 'service-secret',
  };
}

/** Writes mail.schema, slapd.conf and data.ldif (the base entries, the service account, `users`). */
export function writeDirectoryFiles(layout: DirectoryLayout, users: MailUser[]): void {
  const { dir, suffix, adminDN, adminPassword, serviceDN, servicePassword } = layout;
  mkdirSync(join(dir, 'db'), { recursive: true });
  writeFileSync(join(dir, 'mail.schema'), MAIL_SCHEMA);
  writeFileSync(
    join(dir, 'slapd.conf'),
    `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/misc.schema
include ${dir}/mail.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile ${dir}/slapd.pid
argsfile ${dir}/slapd.args
loglevel none
database mdb
suffix "${suffix}"
rootdn "${adminDN}"
rootpw ${adminPassword}
directory ${dir}/db
maxsize 104857600
index objectClass eq
index uid,mail,mailAlternateAddress,mailForwardingAddress eq
access to attrs=userPassword by self write by anonymous auth by * none
access to * by users read by * none
`,
  );
  const base = `dn: ${suffix}
objectClass: top
objectClass: dcObject
objectClass: organization
o: Example Test
dc: example

dn: ou=people,${suffix}
objectClass: organizationalUnit
ou: people

dn: ou=services,${suffix}
objectClass: organizationalUnit
ou: services

dn: ${serviceDN}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: mtopo
userPassword: ${servicePassword}
`;
  writeFileSync(join(dir, 'data.ldif'), [base, ...users.map((u) => userLdif(suffix, u))].join('\n'));
}

export async function startSlapd(
  dir: string,
  users: MailUser[] = [],
  /** `port`: a given one (a server started again where clients expect it), else a free one. */
  options: { logOperations?: boolean; port?: number } = {},
): Promise<Slapd> {
  const layout = directoryLayout(dir);
  const { suffix, adminDN, adminPassword, serviceDN, servicePassword } = layout;
  const port = options.port ?? (await freePort());
  writeDirectoryFiles(layout, users);
  // Loaded offline before the server starts: quicker than ldapadd and nothing to wait for.
  const loaded = await run('slapadd', ['-f', join(dir, 'slapd.conf'), '-l', join(dir, 'data.ldif')]);
  if (loaded.code !== 0) throw new Error(`slapadd failed: ${loaded.stderr}`);
  const url = `ldap://127.0.0.1:${port}`;
  const proc = ManagedProcess.spawn(
    'slapd',
    '/usr/sbin/slapd',
    // Debug level 256 ("stats") logs every operation and its result, to the log file.
    ['-d', options.logOperations ? '256' : '0', '-f', join(dir, 'slapd.conf'), '-h', `${url}/`],
    {
      logFile: join(dir, 'slapd.log'),
    },
  );
  await proc.whenListening(port);

  const ldapClient = async (tool: string, ldifText: string) => {
    const result = await run(tool, ['-x', '-H', url, '-D', adminDN, '-w', adminPassword], {
      input: ldifText,
    });
    if (result.code !== 0) throw new Error(`${tool} failed: ${result.stderr}`);
  };
  return {
    url,
    port,
    suffix,
    adminDN,
    adminPassword,
    serviceDN,
    servicePassword,
    process: proc,
    addUsers: (more) => ldapClient('ldapadd', more.map((u) => userLdif(suffix, u)).join('\n')),
    modify: (text) => ldapClient('ldapmodify', text),
    log: () => readFileSync(join(dir, 'slapd.log'), 'utf8'),
    stop: () => proc.stop(),
  };
}
