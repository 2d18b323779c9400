// Connections from the outside namespace, from a chosen zone address: what a client in that zone
// would see. A small Node script run under nsenter, so the source address is the one bound, not
// whatever the route picks.
import { run } from '../../testing/support/processes.ts';
import type { OutsideNetwork } from './outside-network.ts';

export type ProbeResult =
  | { readonly outcome: 'open'; readonly banner: string }
  | { readonly outcome: 'refused' | 'timeout' | 'unreachable'; readonly detail: string };

const script = `
const net = require('node:net');
const [host, port, localAddress, timeoutMs] = process.argv.slice(1);
const socket = net.connect({ host, port: Number(port), localAddress });
let banner = '';
const done = (line) => { process.stdout.write(JSON.stringify(line)); socket.destroy(); process.exit(0); };
socket.setTimeout(Number(timeoutMs), () => done({ outcome: banner ? 'open' : 'timeout', banner, detail: 'no answer' }));
socket.on('connect', () => setTimeout(() => done({ outcome: 'open', banner }), 1500));
socket.on('data', (chunk) => { banner += chunk; if (banner.includes('\\n')) done({ outcome: 'open', banner }); });
socket.on('error', (e) => done({ outcome: e.code === 'ECONNREFUSED' ? 'refused' : e.code === 'ETIMEDOUT' ? 'timeout' : 'unreachable', detail: e.code ?? e.message }));
`;

/**
 * Connects from `source` (an address the outside namespace holds) to host:port and reads the first
 * line. kube-router refuses what a NetworkPolicy does not admit with an ICMP port unreachable, which
 * looks like a port nobody listens on ("refused"): so a probe meant to prove a wall must aim at a
 * port that is listened on (see e2e/firewall/probe-plan.ts).
 */
export async function probeFrom(
  outside: OutsideNetwork,
  source: string,
  host: string,
  port: number,
  timeoutMs = 5_000,
): Promise<ProbeResult> {
  const [command, args] = outside.wrap(process.execPath, [
    '-e',
    script,
    host,
    String(port),
    source,
    String(timeoutMs),
  ]);
  const result = await run(command, args, { timeoutMs: timeoutMs + 15_000 });
  if (result.code !== 0) throw new Error(`probe from ${source} to ${host}:${port}: ${result.stderr.trim()}`);
  return JSON.parse(result.stdout) as ProbeResult;
}
