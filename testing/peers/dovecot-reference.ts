// A private Dovecot 2.3 (Debian dovecot-imapd, -pop3d, -lmtpd) on free loopback ports, in the
// foreground under our supervision: the reference IMAP server the store's answers are compared
// with (BODYSTRUCTURE, ENVELOPE, sections) and the benchmark's peer. Users log in with PLAIN,
// password "pw" for anyone; mail is Maildir under the temp dir.
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts } from '../support/free-ports.ts';
import { ManagedProcess } from '../support/processes.ts';
import { waitForPort } from '../support/wait.ts';

export interface Dovecot {
  imapPort: number;
  lmtpPort: number;
  pop3Port: number;
  stop(): Promise<void>;
}

export async function startDovecot(
  dir: string,
  options: { highPerformance?: boolean } = {},
): Promise<Dovecot> {
  const [imapPort, pop3Port, lmtpPort] = (await freePorts(3)) as [number, number, number];
  for (const sub of ['run', 'state', 'mail']) mkdirSync(join(dir, sub), { recursive: true });
  chownSync(join(dir, 'mail'), 65534, 65534); // nobody: Dovecot's mail processes run as the userdb's uid
  const login = options.highPerformance
    ? 'service_count = 0\n  client_limit = 1000\n  process_min_avail = 2'
    : '';
  const conf = `
base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = dovecot-${imapPort}
protocols = imap pop3 lmtp
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = ${dir}/dovecot.log
mail_location = maildir:~/Maildir
first_valid_uid = 1
passdb {
  driver = static
  args = password=pw
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=${dir}/mail/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${imapPort}
  }
  inet_listener imaps {
    port = 0
  }
  ${login}
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = ${pop3Port}
  }
  inet_listener pop3s {
    port = 0
  }
  ${login}
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = ${lmtpPort}
  }
}
protocol lmtp {
  postmaster_address = postmaster@example.test
}
protocol imap {
  mail_max_userip_connections = 10000
}
`;
  writeFileSync(join(dir, 'dovecot.conf'), conf);
  const process = ManagedProcess.spawn(
    'dovecot',
    '/usr/sbin/dovecot',
    ['-F', '-c', join(dir, 'dovecot.conf')],
    {
      logFile: join(dir, 'dovecot.out'),
    },
  );
  await waitForPort(imapPort, 15_000);
  await waitForPort(lmtpPort, 15_000);
  return { imapPort, pop3Port, lmtpPort, stop: () => process.stop() };
}
