// A private Dovecot (2.3) on free loopback ports, in the foreground (`dovecot -F`) so its PID is the
// child's: IMAP and POP3 in clear (the MMP reaches it on loopback), Maildirs in the test's folder,
// and a master user, which is how a proxy logs in for a user: SASL PLAIN with authzid = the user,
// authcid = the master user (FIELD-NOTES, "Dovecot as a benchmark peer"). Its own base_dir,
// state_dir and instance_name keep it apart from any system Dovecot and from the other instances.
//
// Traps met on the way: Dovecot will not run mail processes as root (uid 0), so mail is owned by
// nobody; `login_trusted_networks` must hold the MMP's address or the ID x-originating-ip is ignored;
// and `mail_max_userip_connections` (default 10) is per user and client address, which through a
// proxy is the proxy's own, so it is raised.
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
  users: DovecotUser[];
  /** The master user a proxy logs in as (SASL PLAIN authcid). */
  master: { name: string; password: string };
  /** Networks whose ID x-originating-ip Dovecot believes. */
  trustedNetworks?: string;
  /**
   * Dovecot's high-performance login mode (login processes serve many clients, kept warm), for a
   * fair benchmark (FIELD-NOTES, "Dovecot as a benchmark peer"). Default: one process per login.
   */
  highPerformanceLogin?: boolean;
  /** Extra dovecot.conf text. */
  extraConfig?: string;
}

export interface Dovecot {
  imapPort: number;
  pop3Port: number;
  dir: string;
  process: ManagedProcess;
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

export async function startDovecot(dir: string, options: DovecotOptions): Promise<Dovecot> {
  const [imapPort, pop3Port] = (await freePorts(2)) as [number, number];
  for (const sub of ['run', 'state', 'home']) mkdirSync(join(dir, sub), { recursive: true });
  chmodSync(join(dir, 'home'), 0o777);
  const passwd = options.users.map(
    (u) =>
      `${u.name}:{PLAIN}${u.password ?? `random-${Math.random()}`}:${NOBODY}:${NOBODY}::${dir}/home/${u.name}::`,
  );
  writeFileSync(join(dir, 'users'), `${passwd.join('\n')}\n`);
  writeFileSync(join(dir, 'masters'), `${options.master.name}:{PLAIN}${options.master.password}\n`);
  for (const user of options.users) {
    const maildir = join(dir, 'home', user.name, 'Maildir');
    for (const sub of ['new', 'cur', 'tmp']) mkdirSync(join(maildir, sub), { recursive: true });
    (user.inbox ?? []).forEach((subject, i) =>
      writeFileSync(
        join(maildir, 'new', `${1_700_000_000 + i}.fixture${i}.localhost`),
        maildirMessage(subject, i, user.bodyBytes),
      ),
    );
    chownTree(join(dir, 'home', user.name));
  }
  const login = options.highPerformanceLogin
    ? '  service_count = 0\n  process_min_avail = 2\n  client_limit = 10000\n  vsz_limit = 1G'
    : '';
  writeFileSync(
    join(dir, 'dovecot.conf'),
    `base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = mtopo-dovecot-${imapPort}
listen = 127.0.0.1
protocols = imap pop3
log_path = ${dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
login_trusted_networks = ${options.trustedNetworks ?? '127.0.0.0/8'}
mail_location = maildir:~/Maildir
mail_max_userip_connections = 10000
first_valid_uid = ${NOBODY}
default_internal_user = dovecot
default_login_user = dovenull
auth_verbose = yes
passdb {
  driver = passwd-file
  args = ${dir}/masters
  master = yes
  pass = yes
}
passdb {
  driver = passwd-file
  args = ${dir}/users
}
userdb {
  driver = passwd-file
  args = ${dir}/users
}
service imap-login {
${login}
  inet_listener imap {
    address = 127.0.0.1
    port = ${imapPort}
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
${login}
  inet_listener pop3 {
    address = 127.0.0.1
    port = ${pop3Port}
  }
  inet_listener pop3s {
    port = 0
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
${
  options.highPerformanceLogin
    ? 'service imap {\n  service_count = 0\n  client_limit = 50\n  process_limit = 400\n}\ndefault_process_limit = 400\ndefault_client_limit = 20000\n'
    : ''
}protocol pop3 {
  pop3_uidl_format = %08Xu%08Xv
}
${options.extraConfig ?? ''}
`,
  );
  const proc = ManagedProcess.spawn('dovecot', '/usr/sbin/dovecot', ['-F', '-c', join(dir, 'dovecot.conf')], {
    logFile: join(dir, 'dovecot.stdout'),
  });
  await waitForPort(imapPort);
  await waitForPort(pop3Port);
  return {
    imapPort,
    pop3Port,
    dir,
    process: proc,
    log: () => {
      try {
        return readFileSync(join(dir, 'dovecot.log'), 'utf8');
      } catch {
        return '';
      }
    },
    stop: () => proc.stop(),
  };
}

function chownTree(path: string): void {
  // Small trees only (a few Maildirs), so a plain recursion is enough.
  chownSync(path, NOBODY, NOBODY);
  if (!statSync(path).isDirectory()) return;
  for (const name of readdirSync(path)) chownTree(join(path, name));
}
