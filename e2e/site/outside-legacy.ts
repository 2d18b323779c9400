// The legacy mail system of the site ("notes") on the test node: a private instance of Debian's
// Postfix in the outside namespace, on port 25 of the address the topology names, the final
// destination of the legacy domains: it delivers all their mail into one Maildir (each message
// with a Delivered-To: header), so a test can read back what the gateway sent.
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MASTER_CF_SERVICES, postfixInstance } from '../../testing/peers/postfix.ts';
import { ManagedProcess, run } from '../../testing/support/processes.ts';
import { waitFor } from '../../testing/support/wait.ts';
import type { OutsideNetwork } from '../outside/outside-network.ts';
import { probeFrom } from '../outside/probe.ts';

export interface OutsideLegacy {
  /** The messages delivered so far (Maildir new/), whole. */
  messages(): string[];
  maillog(): string;
  stop(): Promise<void>;
}

const id = async (flag: '-u' | '-g'): Promise<number> => Number((await run('id', [flag, 'postfix'])).stdout);

/** `dir` must be reachable by the postfix user (its parents at least traversable). */
export async function startOutsideLegacy(
  outside: OutsideNetwork,
  dir: string,
  address: string,
  domains: readonly string[],
): Promise<OutsideLegacy> {
  const [uid, gid] = [await id('-u'), await id('-g')];
  const etc = join(dir, 'etc');
  const mail = join(dir, 'mail');
  for (const sub of [etc, join(dir, 'spool'), join(dir, 'data'), mail]) mkdirSync(sub, { recursive: true });
  chownSync(join(dir, 'data'), uid, -1);
  chownSync(mail, uid, gid);
  const main: Record<string, string> = {
    ...postfixInstance(join(dir, 'spool'), join(dir, 'data')),
    myhostname: 'notes.corp.example',
    mydestination: '',
    inet_interfaces: address,
    inet_protocols: 'ipv4',
    mynetworks: `${address}/32`,
    virtual_mailbox_domains: domains.join(', '),
    virtual_mailbox_base: mail,
    // One Maildir for every address of those domains.
    virtual_mailbox_maps: 'static:inbox/',
    virtual_uid_maps: `static:${uid}`,
    virtual_gid_maps: `static:${gid}`,
    smtpd_relay_restrictions: 'permit_mynetworks, reject_unauth_destination',
    smtp_dns_support_level: 'disabled',
    alias_maps: '',
    alias_database: '',
    local_recipient_maps: '',
    maillog_file: join(dir, 'maillog'),
    maillog_file_prefixes: dir,
    biff: 'no',
    smtputf8_enable: 'no',
    smtpd_forbid_bare_newline: 'normalize',
  };
  writeFileSync(
    join(etc, 'main.cf'),
    `${Object.entries(main)
      .map(([k, v]) => `${k} = ${v}`)
      .join('\n')}\n`,
  );
  writeFileSync(
    join(etc, 'master.cf'),
    `${address}:25 inet n - n - - smtpd\n${MASTER_CF_SERVICES}virtual    unix  - n n -  - virtual\n`,
  );
  // `postfix start` forks master, which then leads its own process group (it signals that group on
  // the way down, so it must not share the test runner's); it is stopped by the PID it writes.
  const [command, args] = outside.wrap('/usr/sbin/postfix', ['-c', etc, 'start']);
  const started = await run(command, args);
  if (started.code !== 0) throw new Error(`postfix start failed: ${started.stderr}${started.stdout}`);
  const master = await ManagedProcess.fromPidFile('legacy-postfix', join(dir, 'spool', 'pid', 'master.pid'));
  await waitFor(
    `the legacy Postfix to listen on ${address}:25`,
    async () => (await probeFrom(outside, address, address, 25, 2_000)).outcome === 'open',
    { timeoutMs: 60_000, intervalMs: 300 },
  );
  const inbox = join(mail, 'inbox', 'new');
  return {
    messages: () =>
      existsSync(inbox) ? readdirSync(inbox).map((f) => readFileSync(join(inbox, f), 'utf8')) : [],
    maillog: () => (existsSync(main.maillog_file!) ? readFileSync(main.maillog_file!, 'utf8') : ''),
    stop: () => master.stop(10_000),
  };
}
