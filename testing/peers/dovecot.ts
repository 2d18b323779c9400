// A private Dovecot 2.3 (Debian's dovecot-imapd, -pop3d, -lmtpd) on free loopback ports, in the
// foreground (`dovecot -F`) so its PID is the child's: IMAP, POP3 and LMTP in clear, Maildirs in the
// test's folder. The one Dovecot of the project's tests and benchmarks: the store compared with
// (tests of its views, bench/store), and the store behind the MMP (its tests, bench/mmp). Its own
// base_dir, state_dir and instance_name keep it apart from any system Dovecot and other instances.
//
// Who logs in: the listed users with their passwords, and a master user (how a proxy logs in for a
// user: SASL PLAIN with authzid = the user, authcid = the master; FIELD-NOTES, "Dovecot as a
// benchmark peer"); or, with `anyUser`, every name with one password (a reference or a benchmark
// that makes its users as it goes).
//
// Two process settings, as a fair comparison needs (FIELD-NOTES): Dovecot's defaults (a process per
// login and per IMAP session), and its high-performance mode (processes kept warm and reused:
// service_count = 0, process_min_avail, a client_limit per process, for the logins, IMAP and LMTP).
//
// Traps met on the way: Dovecot will not run mail processes as root (uid 0), so mail is owned by
// nobody; `login_trusted_networks` must hold the MMP's address or the ID x-originating-ip is ignored;
// `mail_max_userip_connections` (default 10) is per user and client address, which through a proxy
// is the proxy's own, so it is raised; and the process and client limits are raised so that a
// benchmark's thousands of sessions are not refused (default_process_limit is 100).
import { chmodSync, chownSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts } from '../support/free-ports.ts';
import { ManagedProcess } from '../support/processes.ts';
import { waitForPort } from '../support/wait.ts';

export interface DovecotUser {
  name: string;
  /** The user's own password (for logins that do not go through the MMP); random when absent. */
  password?: string;
  /** Subjects of messages put into the INBOX before the start. */
  inbox?: string[];
  /** Bytes of body text per INBOX message (for throughput tests); a line by default. */
  bodyBytes?: number;
}

export interface DovecotOptions {
  users?: DovecotUser[];
  /** The master user a proxy logs in as (SASL PLAIN authcid). */
  master?: { name: string; password: string };
  /** Every user name logs in with this password (a static passdb); mail is made on first use. */
  anyUser?: { password: string };
  /** Networks whose ID x-originating-ip Dovecot believes. */
  trustedNetworks?: string;
  /**
   * Dovecot's high-performance mode (login, IMAP and LMTP processes serve many clients and are kept
   * warm), for a fair benchmark. Default: Dovecot's own settings, one process per login and session.
   */
  highPerformanceLogin?: boolean;
  /** Extra dovecot.conf text. */
  extraConfig?: string;
}

export interface Dovecot {
  imapPort: number;
  pop3Port: number;
  lmtpPort: number;
  dir: string;
  /** Where the users' homes are (home/<user>/Maildir). */
  homeDir: string;
  process: ManagedProcess;
  /** The PIDs of every process of this instance (for memory and CPU figures). */
  pids(): number[];
  log(): string;
  stop(): Promise<void>;
}

const NOBODY = 65534;

function maildirMessage(subject: string, index: number, bodyBytes?: number): string {
  const body = bodyBytes ? `${'x'.repeat(76)}\r\n`.repeat(Math.ceil(bodyBytes / 78)) : `Body of ${subject}.`;
  return [
    'From: sender@example.test',
    'To: user@example.test',
    `Subject: ${subject}`,
    `Message-ID: <fixture-${index}@example.test>`,
    'Date: Tue, 01 Dec 2026 12:00:00 +0000',
    '',
    body,
    '',
  ].join('\r\n');
}

function highPerformance(loginClients: number): { login: string; services: string } {
  return {
    login: `  service_count = 0\n  process_min_avail = 2\n  client_limit = ${loginClients}\n  vsz_limit = 1G`,
    services: `service imap {
  service_count = 0
  client_limit = 50
  process_limit = 400
}
service lmtp {
  process_min_avail = 2
}
`,
  };
}

export async function startDovecot(dir: string, options: DovecotOptions = {}): Promise<Dovecot> {
  const [imapPort, pop3Port, lmtpPort] = (await freePorts(3)) as [number, number, number];
  const home = join(dir, 'home');
  for (const sub of ['run', 'state', 'home']) mkdirSync(join(dir, sub), { recursive: true });
  chmodSync(home, 0o777);
  const users = options.users ?? [];
  const passwd = users.map(
    (u) =>
      `${u.name}:{PLAIN}${u.password ?? `random-${Math.random()}`}:${NOBODY}:${NOBODY}::${home}/${u.name}::`,
  );
  writeFileSync(join(dir, 'users'), `${passwd.join('\n')}\n`);
  for (const user of users) {
    const maildir = join(home, user.name, 'Maildir');
    for (const sub of ['new', 'cur', 'tmp']) mkdirSync(join(maildir, sub), { recursive: true });
    (user.inbox ?? []).forEach((subject, i) =>
      writeFileSync(
        join(maildir, 'new', `${1_700_000_000 + i}.fixture${i}.localhost`),
        maildirMessage(subject, i, user.bodyBytes),
      ),
    );
    chownTree(join(home, user.name));
  }
  const passdbs: string[] = [];
  if (options.master) {
    writeFileSync(join(dir, 'masters'), `${options.master.name}:{PLAIN}${options.master.password}\n`);
    passdbs.push(
      `passdb {\n  driver = passwd-file\n  args = ${dir}/masters\n  master = yes\n  pass = yes\n}`,
    );
  }
  passdbs.push(
    options.anyUser
      ? `passdb {\n  driver = static\n  args = password=${options.anyUser.password}\n}`
      : `passdb {\n  driver = passwd-file\n  args = ${dir}/users\n}`,
  );
  const userdb = options.anyUser
    ? `userdb {\n  driver = static\n  args = uid=${NOBODY} gid=${NOBODY} home=${home}/%u\n}`
    : `userdb {\n  driver = passwd-file\n  args = ${dir}/users\n}`;
  const fast = options.highPerformanceLogin ? highPerformance(10_000) : { login: '', services: '' };
  const listener = (name: string, port: number) =>
    `  inet_listener ${name} {\n    address = 127.0.0.1\n    port = ${port}\n  }`;
  writeFileSync(
    join(dir, 'dovecot.conf'),
    `base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = mtopo-dovecot-${imapPort}
listen = 127.0.0.1
protocols = imap pop3 lmtp
log_path = ${dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
login_trusted_networks = ${options.trustedNetworks ?? '127.0.0.0/8'}
mail_location = maildir:~/Maildir
# "optimized" is Dovecot's default: mail is fsynced before it is acknowledged.
mail_fsync = optimized
mail_max_userip_connections = 100000
first_valid_uid = ${NOBODY}
default_internal_user = dovecot
default_login_user = dovenull
default_process_limit = 12000
default_client_limit = 24000
auth_verbose = yes
${passdbs.join('\n')}
${userdb}
service imap-login {
${fast.login}
${listener('imap', imapPort)}
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
${fast.login}
${listener('pop3', pop3Port)}
  inet_listener pop3s {
    port = 0
  }
}
service lmtp {
${listener('lmtp', lmtpPort)}
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
${fast.services}protocol lmtp {
  postmaster_address = postmaster@example.test
}
protocol pop3 {
  pop3_uidl_format = %08Xu%08Xv
}
${options.extraConfig ?? ''}
`,
  );
  const proc = ManagedProcess.spawn('dovecot', '/usr/sbin/dovecot', ['-F', '-c', join(dir, 'dovecot.conf')], {
    logFile: join(dir, 'dovecot.stdout'),
  });
  try {
    for (const port of [imapPort, pop3Port, lmtpPort]) await waitForPort(port, 20_000);
  } catch (error) {
    await proc.stop();
    throw error;
  }
  return {
    imapPort,
    pop3Port,
    lmtpPort,
    dir,
    homeDir: home,
    process: proc,
    pids: () => [proc.pid, ...descendants(proc.pid)],
    log: () => {
      try {
        return readFileSync(join(dir, 'dovecot.log'), 'utf8');
      } catch {
        return '';
      }
    },
    stop: () => proc.stop(10_000),
  };
}

/** Every descendant of `pid`, from /proc (Dovecot's services fork from the master). */
export function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(name)]);
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of parents.get(queue.pop()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function chownTree(path: string): void {
  // Small trees only (a few Maildirs), so a plain recursion is enough.
  chownSync(path, NOBODY, NOBODY);
  if (!statSync(path).isDirectory()) return;
  for (const name of readdirSync(path)) chownTree(join(path, name));
}
