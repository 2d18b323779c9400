// A private Dovecot 2.3 instance (Debian's) on loopback for the store benchmark: its own base_dir,
// state and mail folders, LMTP on a free port, Maildir. Two process settings, as FIELD-NOTES says a
// fair comparison needs: Dovecot's defaults, and its high-performance mode (processes kept running
// and reused: service_count = 0, process_min_avail, a client_limit per process).
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts } from '../../testing/support/free-ports.ts';
import { ManagedProcess, run } from '../../testing/support/processes.ts';
import { waitForPort } from '../../testing/support/wait.ts';

export interface Dovecot {
  readonly lmtpPort: number;
  readonly imapPort: number;
  readonly pop3Port: number;
  readonly mailDir: string;
  /** The PIDs of every process of this instance (for memory figures). */
  pids(): Promise<number[]>;
  stop(): Promise<void>;
}

export async function startDovecot(dir: string, mode: 'default' | 'high-performance'): Promise<Dovecot> {
  const mailDir = join(dir, 'mail');
  for (const sub of ['base', 'state', 'mail']) mkdirSync(join(dir, sub), { recursive: true });
  // Dovecot refuses to deliver as root; the mail belongs to nobody, like a real mail uid would.
  const nobody = Number((await run('id', ['-u', 'nobody'])).stdout.trim());
  const nogroup = Number((await run('id', ['-g', 'nobody'])).stdout.trim());
  chownSync(mailDir, nobody, nogroup);
  const [lmtpPort, imapPort, pop3Port] = (await freePorts(3)) as [number, number, number];
  const performance =
    mode === 'high-performance'
      ? `
service imap-login {
  service_count = 0
  client_limit = 1000
  process_min_avail = 2
}
service pop3-login {
  service_count = 0
  client_limit = 1000
  process_min_avail = 2
}
service lmtp {
  process_min_avail = 2
}
`
      : '';
  const config = `
base_dir = ${join(dir, 'base')}
state_dir = ${join(dir, 'state')}
instance_name = bench-${mode}
protocols = lmtp imap pop3
listen = 127.0.0.1
log_path = ${join(dir, 'dovecot.log')}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:${mailDir}/%u
# "optimized" is Dovecot's default: mail is fsynced before it is acknowledged.
mail_fsync = optimized
mail_max_userip_connections = 100000
first_valid_uid = ${nobody}
default_internal_user = dovecot
default_login_user = dovenull
passdb {
  driver = static
  args = password=pw
}
userdb {
  driver = static
  args = uid=${nobody} gid=${nogroup} home=${mailDir}/%u
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = ${lmtpPort}
  }
}
service imap-login {
  inet_listener imap {
    port = ${imapPort}
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = ${pop3Port}
  }
  inet_listener pop3s {
    port = 0
  }
}
${performance}
`;
  const configFile = join(dir, 'dovecot.conf');
  writeFileSync(configFile, config);
  const proc = ManagedProcess.spawn('dovecot', 'dovecot', ['-F', '-c', configFile], {
    logFile: join(dir, 'dovecot.out'),
  });
  await waitForPort(lmtpPort, 20_000);
  return {
    lmtpPort,
    imapPort,
    pop3Port,
    mailDir,
    pids: async () => {
      const children = await run('pgrep', ['-P', String(proc.pid)]);
      return [proc.pid, ...children.stdout.split('\n').filter(Boolean).map(Number)];
    },
    stop: () => proc.stop(10_000),
  };
}
