// The site's directory on the test node: Debian's slapd with the protocol tests' schema and layout
// (testing/peers/slapd.ts) and the site's users, serving LDAPS on every directory address the
// topology names, in the outside namespace. One slapd answers for both servers of the example
// (ldap-1 and ldap-2); the certificate carries both addresses.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess, run } from '../../testing/support/processes.ts';
import { waitFor } from '../../testing/support/wait.ts';
import {
  directoryLayout,
  writeDirectoryFiles,
  type DirectoryLayout,
  type MailUser,
} from '../../testing/peers/slapd.ts';
import type { OutsideNetwork } from '../outside/outside-network.ts';
import { probeFrom } from '../outside/probe.ts';
import type { Pem } from './site-pki.ts';

export const LDAPS_PORT = 636;

export interface OutsideDirectory {
  readonly layout: DirectoryLayout;
  /** slapd's log: one line per operation (BIND, SRCH, RESULT). */
  log(): string;
  /**
   * Applies an LDIF change: ldapmodify as the directory's admin over LDAPS from the outside,
   * checking slapd's certificate against `caFile` (the site's CA, which issued it).
   */
  modify(ldif: string, caFile: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startOutsideDirectory(
  outside: OutsideNetwork,
  dir: string,
  addresses: readonly string[],
  users: MailUser[],
  tls: Pem,
): Promise<OutsideDirectory> {
  const layout = directoryLayout(dir);
  writeDirectoryFiles(layout, users);
  // TLS settings are global: they go before the database section.
  const conf = join(dir, 'slapd.conf');
  writeFileSync(
    conf,
    readFileSync(conf, 'utf8').replace(
      'loglevel none\n',
      `loglevel none\nTLSCertificateFile ${tls.certFile}\nTLSCertificateKeyFile ${tls.keyFile}\n`,
    ),
  );
  const loaded = await run('slapadd', ['-f', conf, '-l', join(dir, 'data.ldif')]);
  if (loaded.code !== 0) throw new Error(`slapadd failed: ${loaded.stderr}`);
  const urls = addresses.map((a) => `ldaps://${a}:${LDAPS_PORT}/`).join(' ');
  const logFile = join(dir, 'slapd.log');
  const [command, args] = outside.wrap('/usr/sbin/slapd', ['-d', '256', '-f', conf, '-h', urls]);
  const slapd = ManagedProcess.spawn('slapd', command, args, { logFile });
  try {
    for (const address of addresses) {
      await waitFor(
        `slapd to listen on ${address}:${LDAPS_PORT}`,
        async () => (await probeFrom(outside, address, address, LDAPS_PORT, 2_000)).outcome === 'open',
        {
          timeoutMs: 60_000,
          intervalMs: 300,
          abortIf: () => (slapd.running ? undefined : `slapd exited:\n${readFileSync(logFile, 'utf8')}`),
        },
      );
    }
  } catch (error) {
    await slapd.stop();
    throw error;
  }
  const modify = async (ldif: string, caFile: string): Promise<void> => {
    const [command, args] = outside.wrap('/usr/bin/env', [
      `LDAPTLS_CACERT=${caFile}`,
      'ldapmodify',
      '-H',
      `ldaps://${addresses[0]}:${LDAPS_PORT}/`,
      '-x',
      '-D',
      layout.adminDN,
      '-w',
      layout.adminPassword,
    ]);
    const result = await run(command, args, { input: ldif, timeoutMs: 30_000 });
    if (result.code !== 0) throw new Error(`ldapmodify failed: ${result.stderr}${result.stdout}`);
  };
  return { layout, log: () => readFileSync(logFile, 'utf8'), modify, stop: () => slapd.stop() };
}
