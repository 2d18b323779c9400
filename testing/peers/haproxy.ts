// HAProxy (Debian's haproxy) as the load balancer in front of one of our programs: a TCP frontend
// on a free loopback port that forwards each connection to the program with a PROXY header
// (`send-proxy` for v1, `send-proxy-v2` for v2), as a cloud load balancer or an ingress does. It
// runs in the foreground (-db) with its own config and no stats socket, chroot or daemon user.
//
// On loopback every peer is 127.0.0.1; `source` makes HAProxy connect to the program from another
// loopback address, so a test can tell the balancer from a client that connects directly.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../support/free-ports.ts';
import { ManagedProcess, run } from '../support/processes.ts';
import { acceptsConnections, waitFor } from '../support/wait.ts';

export const HAPROXY = '/usr/sbin/haproxy';

export interface HaproxyOptions {
  /** The program's port that receives the PROXY header. */
  backendPort: number;
  version: 'v1' | 'v2';
  /** The loopback address HAProxy connects to the program from (127.0.0.1 unless given). */
  source?: string;
}

export interface Haproxy {
  /** Where clients connect: HAProxy's frontend on 127.0.0.1. */
  port: number;
  process: ManagedProcess;
  log(): string;
  stop(): Promise<void>;
}

export async function startHaproxy(dir: string, options: HaproxyOptions): Promise<Haproxy> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const configFile = join(dir, 'haproxy.cfg');
  const logFile = join(dir, 'haproxy.log');
  const sendProxy = options.version === 'v2' ? 'send-proxy-v2' : 'send-proxy';
  writeFileSync(
    configFile,
    [
      'global',
      // Two threads are plenty for a test and keep it light on a busy 2-core machine.
      '  nbthread 2',
      'defaults',
      '  mode tcp',
      '  timeout connect 5s',
      '  timeout client 60s',
      '  timeout server 60s',
      'frontend clients',
      `  bind 127.0.0.1:${port}`,
      '  default_backend program',
      'backend program',
      `  server program 127.0.0.1:${options.backendPort} ${sendProxy}` +
        (options.source ? ` source ${options.source}` : ''),
      '',
    ].join('\n'),
  );
  const check = await run(HAPROXY, ['-c', '-f', configFile]);
  if (check.code !== 0) throw new Error(`haproxy refused its config:\n${check.stdout}${check.stderr}`);
  const proc = ManagedProcess.spawn('haproxy', HAPROXY, ['-db', '-f', configFile], { logFile });
  try {
    // Connecting to the frontend opens a connection to the program too: a probe it sees and drops.
    await waitFor('haproxy to listen', () => acceptsConnections(port), {
      timeoutMs: 30_000,
      abortIf: () => (proc.running ? undefined : `haproxy exited:\n${readFileSync(logFile, 'utf8')}`),
    });
  } catch (error) {
    await proc.stop();
    throw error;
  }
  return {
    port,
    process: proc,
    log: () => readFileSync(logFile, 'utf8'),
    stop: () => proc.stop(),
  };
}
