// Journey 4 of issue 13: a user moved from one store to another by the procedure of docs/mmp.md
// ("Moving a user"), run as an operator would: the mailHost changed in the outside directory, the
// caches left to expire, the mailbox copied with copy-mailbox.js in an MMP pod, the user's sessions
// ended with end-sessions.js in every MMP pod. Plus a client session held open across the move, so
// the test can see it ended.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { kubectl } from '../../testing/control-plane/kubectl.ts';
import { ManagedProcess } from '../../testing/support/processes.ts';
import { waitFor } from '../../testing/support/wait.ts';
import { SITE_NAMESPACE, type DeployedSite } from './deploy-site.ts';

const MMP_PODS = 'app.kubernetes.io/component=mmp';

export async function mmpPods(): Promise<string[]> {
  const out = (await kubectl(['-n', SITE_NAMESPACE, 'get', 'pods', '-l', MMP_PODS, '-o', 'name'])).stdout;
  return out.split('\n').filter((l) => l.trim() !== '');
}

/** `kubectl exec` in a pod; stdout, or an error with what the command said. */
export async function execIn(pod: string, command: string[]): Promise<string> {
  const result = await kubectl(['-n', SITE_NAMESPACE, 'exec', pod, '--', ...command], {
    check: false,
    timeoutMs: 300_000,
  });
  if (result.exitCode !== 0)
    throw new Error(`${pod}: ${command.join(' ')}: ${result.stderr}${result.stdout}`);
  return result.stdout;
}

export interface MoveResult {
  /** copy-mailbox's report. */
  readonly copied: string;
  /** Sessions end-sessions ended, summed over the MMP pods. */
  readonly ended: number;
}

/**
 * The documented procedure. `cacheSeconds`: the directory's cacheTTL, which step 1 waits out by
 * design (the MTAs' and the MMP's answers for the user expire; nothing observable says when).
 */
export async function moveUser(
  deployed: DeployedSite,
  move: { uid: string; from: string; to: string; cacheSeconds: number },
  duringWait: () => Promise<void>,
): Promise<MoveResult> {
  const { suffix } = deployed.directory.layout;
  await deployed.directory.modify(
    `dn: uid=${move.uid},ou=people,${suffix}\nchangetype: modify\nreplace: mailHost\nmailHost: ${move.to}\n`,
    deployed.caFile,
  );
  const changed = Date.now();
  await duringWait();
  const left = changed + (move.cacheSeconds + 5) * 1000 - Date.now();
  if (left > 0) await sleep(left);
  const [first] = await mmpPods();
  if (!first) throw new Error('no MMP pod');
  const copied = await execIn(first, [
    'node',
    'images/mmp/copy-mailbox.js',
    move.uid,
    '--from',
    move.from,
    '--to',
    move.to,
  ]);
  let ended = 0;
  for (const pod of await mmpPods()) {
    const said = await execIn(pod, ['node', 'images/mmp/end-sessions.js', move.uid]);
    ended += Number(/ended (\d+) session/.exec(said)?.[1] ?? 'NaN');
  }
  return { copied, ended };
}

/** Python's imaplib holding a session open through the MMP pool (NOOP every half second) until the server ends it. */
const HOLD_SESSION = `
import imaplib, socket, ssl, sys, time
source, host, port, user, password, ca = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
class FromZone(imaplib.IMAP4):
    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout, source_address=(source, 0))
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False
c = FromZone(host, port, timeout=30)
c.starttls(ssl_context=ctx)
c.login(user, password)
c.select('INBOX')
print('logged in', flush=True)
try:
    while True:
        c.noop()
        time.sleep(0.5)
except Exception as e:
    print('ended by the server:', type(e).__name__, flush=True)
`;

export async function holdSession(
  deployed: DeployedSite,
  source: string,
  account: { user: string; password: string },
): Promise<{ process: ManagedProcess; log: () => string }> {
  const logFile = join(deployed.scratch, `held-session-${account.user}.log`);
  const [command, args] = deployed.outside.wrap('/usr/bin/python3', [
    '-c',
    HOLD_SESSION,
    source,
    deployed.haproxy.address,
    String(deployed.balancer.imap),
    account.user,
    account.password,
    deployed.caFile,
  ]);
  const held = ManagedProcess.spawn(`held-session-${account.user}`, command, args, { logFile });
  await waitFor(
    'the held IMAP session to log in',
    () => readFileSync(logFile, 'utf8').includes('logged in'),
    {
      timeoutMs: 60_000,
      intervalMs: 300,
      abortIf: () => (held.running ? undefined : `the session exited: ${readFileSync(logFile, 'utf8')}`),
    },
  );
  return { process: held, log: () => readFileSync(logFile, 'utf8') };
}
