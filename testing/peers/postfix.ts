// A private Postfix instance (`postfix -c DIR/etc start`) on a free loopback port, with its own queue,
// relaying the domains it is given to a next hop. The tests use it as the internet (it sends to our
// internet-facing MTA), as the legacy system behind the gateway, and as the benchmark's reference
// relay. The master daemon forks; it is tracked and stopped by the PID it writes.
import { chownSync, mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../support/free-ports.ts';
import { ManagedProcess, run } from '../support/processes.ts';

export interface PostfixOptions {
  /** Recipient domains it accepts and relays. */
  relayDomains: string[];
  /** Where it relays them: host:port (an IP literal, no MX lookup). */
  nextHop: { host: string; port: number };
  myhostname?: string;
  /** Extra main.cf lines. */
  mainCf?: Record<string, string>;
}

export interface Postfix {
  port: number;
  dir: string;
  process: ManagedProcess;
  maillog(): string;
  /** Files still in the queue (incoming, active, deferred, maildrop). */
  queueSize(): Promise<number>;
  stop(): Promise<void>;
}

/** master.cf's internal services (everything but the listener), for every private Postfix here. */
export const MASTER_CF_SERVICES = `pickup     unix  n - n 60 1 pickup
cleanup    unix  n - n -  0 cleanup
qmgr       unix  n - n 300 1 qmgr
rewrite    unix  - - n -  - trivial-rewrite
bounce     unix  - - n -  0 bounce
defer      unix  - - n -  0 bounce
trace      unix  - - n -  0 bounce
verify     unix  - - n -  1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n -  - proxymap
proxywrite unix  - - n -  1 proxymap
smtp       unix  - - n -  - smtp
relay      unix  - - n -  - smtp
showq      unix  n - n -  - showq
error      unix  - - n -  - error
retry      unix  - - n -  - error
discard    unix  - - n -  - discard
lmtp       unix  - - n -  - lmtp
anvil      unix  - - n -  1 anvil
scache     unix  - - n -  1 scache
tlsmgr     unix  - - n 1000? 1 tlsmgr
postlog    unix-dgram n - n - 1 postlogd
`;

/** main.cf's lines that make a private instance of Debian's Postfix: its own queue and data, the package's programs. */
export function postfixInstance(queueDirectory: string, dataDirectory: string): Record<string, string> {
  return {
    compatibility_level: '3.6',
    queue_directory: queueDirectory,
    data_directory: dataDirectory,
    command_directory: '/usr/sbin',
    daemon_directory: '/usr/lib/postfix/sbin',
    shlib_directory: '/usr/lib/postfix',
    meta_directory: '/etc/postfix',
    mail_owner: 'postfix',
    setgid_group: 'postdrop',
  };
}

export async function startPostfix(dir: string, options: PostfixOptions): Promise<Postfix> {
  for (const sub of ['etc', 'spool', 'data']) mkdirSync(join(dir, sub), { recursive: true });
  const postfixUser = await run('id', ['-u', 'postfix']);
  const uid = Number(postfixUser.stdout.trim());
  chownSync(join(dir, 'data'), uid, -1);
  const port = await freePort();
  const main: Record<string, string> = {
    ...postfixInstance(join(dir, 'spool'), join(dir, 'data')),
    myhostname: options.myhostname ?? 'postfix.example.test',
    mydomain: 'example.test',
    mydestination: '',
    inet_interfaces: '127.0.0.1',
    inet_protocols: 'ipv4',
    mynetworks: '127.0.0.0/8',
    relay_domains: options.relayDomains.join(', '),
    smtpd_relay_restrictions: 'permit_mynetworks, reject_unauth_destination',
    relayhost: `[${options.nextHop.host}]:${options.nextHop.port}`,
    smtp_dns_support_level: 'disabled',
    alias_maps: '',
    alias_database: '',
    local_recipient_maps: '',
    maillog_file: join(dir, 'maillog'),
    maillog_file_prefixes: dir,
    biff: 'no',
    smtputf8_enable: 'no',
    // Postfix exempts $mynetworks from its bare-newline defence by default; loopback clients would
    // then get through with LF.LF (see FIELD-NOTES).
    smtpd_forbid_bare_newline: 'normalize',
    smtpd_forbid_bare_newline_exclusions: '',
    default_destination_concurrency_limit: '20',
    ...options.mainCf,
  };
  writeFileSync(
    join(dir, 'etc', 'main.cf'),
    Object.entries(main)
      .map(([k, v]) => `${k} = ${v}`)
      .join('\n') + '\n',
  );
  writeFileSync(
    join(dir, 'etc', 'master.cf'),
    `127.0.0.1:${port} inet n - n - - smtpd\n${MASTER_CF_SERVICES}`,
  );
  const etc = join(dir, 'etc');
  await run('postfix', ['-c', etc, 'check']);
  const started = await run('postfix', ['-c', etc, 'start']);
  if (started.code !== 0) throw new Error(`postfix start failed: ${started.stderr}${started.stdout}`);
  const proc = await ManagedProcess.fromPidFile('postfix', join(dir, 'spool', 'pid', 'master.pid'));
  await proc.whenListening(port);
  const queueDirs = ['incoming', 'active', 'deferred', 'maildrop'].map((q) => join(dir, 'spool', q));
  return {
    port,
    dir,
    process: proc,
    maillog: () => (existsSync(main.maillog_file!) ? readFileSync(main.maillog_file!, 'utf8') : ''),
    queueSize: async () => {
      const result = await run('find', [...queueDirs, '-type', 'f']);
      return result.stdout.split('\n').filter((l) => l.length > 0).length;
    },
    stop: () => proc.stop(10_000),
  };
}
