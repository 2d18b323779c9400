// The three systems the benchmark compares, behind one face: the store program as it runs in a pod
// (node images/store/main.ts), and Dovecot 2.3 from Debian with its default process settings and in
// its high-performance mode (testing/peers/dovecot.ts, the one Dovecot fixture of the project).
import { join } from 'node:path';
import { startDovecot } from '../../testing/peers/dovecot.ts';
import { PROXY_SECRET, PROXY_USER, startStoreProcess } from '../../images/store/testing/store-process.ts';

export type SystemName = 'mtopo' | 'dovecot-default' | 'dovecot-high-performance';
export const SYSTEMS: readonly SystemName[] = ['mtopo', 'dovecot-default', 'dovecot-high-performance'];

export interface RunningSystem {
  readonly name: SystemName;
  readonly imapPort: number;
  readonly lmtpPort: number;
  /** The IMAP LOGIN arguments for a user (ours: the MMP's form, user*proxy and the secret). */
  login(user: string): string;
  /** Every process of the system now (Dovecot's forks come and go). */
  pids(): number[];
  stop(): Promise<void>;
}

const DOVECOT_PASSWORD = 'bench-pw';
const quote = (s: string) => `"${s}"`;

export async function startSystem(name: SystemName, dir: string): Promise<RunningSystem> {
  if (name === 'mtopo') {
    const store = await startStoreProcess(join(dir, 'store'), {
      maxConnections: 20_000,
      maxMessageBytes: 64 * 1024 * 1024,
    });
    return {
      name,
      imapPort: store.ports.imap,
      lmtpPort: store.ports.lmtp,
      login: (user) => `${quote(`${user}*${PROXY_USER}`)} ${quote(PROXY_SECRET)}`,
      pids: () => [store.process.pid],
      stop: () => store.stop(),
    };
  }
  const dovecot = await startDovecot(join(dir, 'dovecot'), {
    anyUser: { password: DOVECOT_PASSWORD },
    highPerformanceLogin: name === 'dovecot-high-performance',
  });
  return {
    name,
    imapPort: dovecot.imapPort,
    lmtpPort: dovecot.lmtpPort,
    login: (user) => `${quote(user)} ${quote(DOVECOT_PASSWORD)}`,
    pids: () => dovecot.pids(),
    stop: () => dovecot.stop(),
  };
}
