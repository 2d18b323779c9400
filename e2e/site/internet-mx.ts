// The test internet's mail server: Postfix's smtp-sink on the internet zone's address, port 25 (the
// MX of TEST_INTERNET's domain in the node's DNS), keeping each message it is given in a file of
// its own. The outbound tier must reach it, and every other tier must not (the firewall probes).
import { mkdir, readdir, readFile, chmod } from 'node:fs/promises';
import path from 'node:path';
import { ManagedProcess } from '../../testing/support/processes.ts';
import { waitFor } from '../../testing/support/wait.ts';
import type { OutsideNetwork } from '../outside/outside-network.ts';
import { probeFrom } from '../outside/probe.ts';

export interface InternetMx {
  /** Every message received so far: smtp-sink's envelope lines (X-Mail-Args: …), then the message. */
  messages(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startInternetMx(
  outside: OutsideNetwork,
  address: string,
  dir: string,
): Promise<InternetMx> {
  const dumps = path.join(dir, 'received');
  await mkdir(dumps, { recursive: true });
  // smtp-sink drops to `nobody` after binding 25 and then writes the dumps.
  await chmod(dir, 0o711);
  await chmod(dumps, 0o777);
  const [command, args] = outside.wrap('/usr/sbin/smtp-sink', [
    '-u',
    'nobody',
    '-h',
    'mx.example.net',
    '-d',
    `${dumps}/%H%M%S.`,
    `${address}:25`,
    '100',
  ]);
  const process = ManagedProcess.spawn('internet-mx', command, args, {
    logFile: path.join(dir, 'internet-mx.log'),
  });
  try {
    await waitFor(
      `the internet's smtp-sink to listen on ${address}:25`,
      async () => (await probeFrom(outside, address, address, 25, 2_000)).outcome === 'open',
      {
        timeoutMs: 60_000,
        intervalMs: 300,
        abortIf: () => (process.hasExited() ? 'smtp-sink exited' : undefined),
      },
    );
  } catch (error) {
    await process.stop().catch(() => {});
    throw error;
  }
  return {
    async messages() {
      const names = (await readdir(dumps)).sort();
      return Promise.all(names.map((name) => readFile(path.join(dumps, name), 'utf8')));
    },
    stop: () => process.stop(),
  };
}
