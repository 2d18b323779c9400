// The PROXY-speaking load balancer in front of the site's PROXY-protocol tiers on the test node:
// Debian's HAProxy in the node's network namespace, where a cloud's load balancer meets the
// cluster. Clients in the outside namespace connect to it on the node's end of the outside veth;
// it connects to the tier's Service with a PROXY v2 header naming the client.
//
// Why on the node and not in the outside namespace: a tier believes a PROXY header only from its
// load balancer's addresses (its service.proxyProtocolFrom; the site names none, so the cluster's
// ranges), while the edge MTA's NetworkPolicy admits the internet, which
// is drawn without the cluster's ranges. An HAProxy outside would either be refused by the edge's
// listener or, with a cluster address, by its policy. From the node it connects with the bridge's
// address (in the cluster's ranges), and node-local traffic is admitted by the enforcer as the
// kubelet's probes are: the same place a cloud load balancer's node proxy has.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HAPROXY } from '../../testing/peers/haproxy.ts';
import { ManagedProcess, run } from '../../testing/support/processes.ts';
import { waitFor } from '../../testing/support/wait.ts';
import { NETNS_PATH } from '../cluster/plan.ts';
import { OUTSIDE } from '../outside/outside-network.ts';
import type { OutsideNetwork } from '../outside/outside-network.ts';
import { probeFrom } from '../outside/probe.ts';

export interface Frontend {
  readonly name: string;
  /** The port clients use on the balancer. */
  readonly port: number;
  /** The Service address and port behind it. */
  readonly backend: { readonly host: string; readonly port: number };
}

export interface NodeHaproxy {
  /** Where clients in the outside namespace connect. */
  readonly address: string;
  log(): string;
  stop(): Promise<void>;
}

export function haproxyConfig(address: string, frontends: readonly Frontend[]): string {
  return [
    'global',
    '  nbthread 1',
    'defaults',
    '  mode tcp',
    '  timeout connect 5s',
    '  timeout client 120s',
    '  timeout server 120s',
    ...frontends.flatMap((f) => [
      `frontend ${f.name}`,
      `  bind ${address}:${f.port}`,
      `  default_backend ${f.name}`,
      `backend ${f.name}`,
      `  server ${f.name} ${f.backend.host}:${f.backend.port} send-proxy-v2`,
    ]),
    '',
  ].join('\n');
}

export async function startNodeHaproxy(
  outside: OutsideNetwork,
  dir: string,
  clientAddress: string,
  frontends: readonly Frontend[],
): Promise<NodeHaproxy> {
  const address = OUTSIDE.nodeAddress;
  const configFile = join(dir, 'haproxy.cfg');
  const logFile = join(dir, 'haproxy.log');
  writeFileSync(configFile, haproxyConfig(address, frontends));
  const check = await run(HAPROXY, ['-c', '-f', configFile]);
  if (check.code !== 0) throw new Error(`haproxy refused its config:\n${check.stdout}${check.stderr}`);
  const proc = ManagedProcess.spawn(
    'haproxy',
    'nsenter',
    [`--net=${NETNS_PATH}`, '--', HAPROXY, '-db', '-f', configFile],
    { logFile },
  );
  try {
    for (const f of frontends) {
      await waitFor(
        `haproxy to listen on ${address}:${f.port}`,
        async () => (await probeFrom(outside, clientAddress, address, f.port, 2_000)).outcome === 'open',
        {
          timeoutMs: 60_000,
          intervalMs: 300,
          abortIf: () => (proc.running ? undefined : `haproxy exited:\n${readFileSync(logFile, 'utf8')}`),
        },
      );
    }
  } catch (error) {
    await proc.stop();
    throw error;
  }
  return { address, log: () => readFileSync(logFile, 'utf8'), stop: () => proc.stop() };
}
