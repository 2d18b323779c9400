// The world outside the cluster, for the end-to-end suite: the internet, the directory, the legacy
// systems and the client zones live in one network namespace of their own, joined to the node's by
// one veth pair. Each zone address sits on that namespace's loopback, so a server started there (the
// directory, a legacy Postfix, an MX for the internet) listens on the very address the topology
// names, and a client there connects from its zone's address: the NetworkPolicies see the sources
// they were written for, as they would on a real site, and nothing listens on the machine itself.
//
//   node namespace                               outside namespace
//   mtopo-e2e-out 10.250.1.1/30  <— veth —>  mtopo-e2e-world 10.250.1.2/30
//   routes: each zone address via .2              lo: 10.20.0.5, 10.30.5.10, 10.40.1.1, 203.0.113.25…
//                                                 routes: the cluster's ranges via .1
//
// No default route on either side: a packet for anywhere else is dropped, never sent to the host's
// networks. Deleting the namespace removes the veth pair and the node's routes with it.

export interface OutsideLayout {
  /** The namespace to create. */
  readonly netns: string;
  /** The node's namespace (`ip netns` name) the outside is joined to. */
  readonly nodeNetns: string;
  readonly nodeVeth: string;
  readonly outsideVeth: string;
  /** Transit link: node end, outside end, prefix length. */
  readonly nodeAddress: string;
  readonly outsideAddress: string;
  readonly prefixLength: number;
}

export const OUTSIDE: OutsideLayout = {
  netns: 'mtopo-e2e-outside',
  nodeNetns: 'mtopo-e2e',
  nodeVeth: 'mtopo-e2e-out',
  outsideVeth: 'mtopo-e2e-world',
  nodeAddress: '10.250.1.1',
  outsideAddress: '10.250.1.2',
  prefixLength: 30,
};

export interface OutsideSpec {
  /** Addresses to hold in the outside namespace (one per fixture or client), each a host address. */
  readonly addresses: readonly string[];
  /** The cluster's ranges (pods, LoadBalancer addresses, Services) the outside may send to. */
  readonly clusterRanges: readonly string[];
}

/** `ip` invocations (arguments after `ip`) that build the outside, in order. */
export function setupCommands(spec: OutsideSpec, layout: OutsideLayout = OUTSIDE): string[][] {
  const node = ['-n', layout.nodeNetns];
  const out = ['-n', layout.netns];
  const transit = (address: string) => `${address}/${layout.prefixLength}`;
  const v4 = spec.addresses.filter((a) => !a.includes(':'));
  if (v4.length !== spec.addresses.length) throw new Error('the outside namespace holds IPv4 addresses only');
  return [
    ['netns', 'add', layout.netns],
    [
      ...node,
      'link',
      'add',
      layout.nodeVeth,
      'type',
      'veth',
      'peer',
      'name',
      layout.outsideVeth,
      'netns',
      layout.netns,
    ],
    [...node, 'addr', 'add', transit(layout.nodeAddress), 'dev', layout.nodeVeth],
    [...node, 'link', 'set', layout.nodeVeth, 'up'],
    [...out, 'link', 'set', 'lo', 'up'],
    [...out, 'addr', 'add', transit(layout.outsideAddress), 'dev', layout.outsideVeth],
    [...out, 'link', 'set', layout.outsideVeth, 'up'],
    ...v4.map((a) => [...out, 'addr', 'add', `${a}/32`, 'dev', 'lo']),
    ...v4.map((a) => [
      ...node,
      'route',
      'add',
      `${a}/32`,
      'via',
      layout.outsideAddress,
      'dev',
      layout.nodeVeth,
    ]),
    ...spec.clusterRanges.map((cidr) => [
      ...out,
      'route',
      'add',
      cidr,
      'via',
      layout.nodeAddress,
      'dev',
      layout.outsideVeth,
    ]),
  ];
}

/** Deleting the namespace takes its veth end, and so the pair and the node's routes through it. */
export function teardownCommands(layout: OutsideLayout = OUTSIDE): string[][] {
  return [['netns', 'delete', layout.netns]];
}

export interface OutsideNetwork {
  readonly layout: OutsideLayout;
  /** `command args…` run inside the outside namespace (nsenter, so /sys and cgroups stay the host's). */
  readonly wrap: (command: string, args: readonly string[]) => [string, string[]];
  delete(): Promise<void>;
}

async function ip(args: readonly string[]): Promise<void> {
  const { run } = await import('../../testing/support/processes.ts');
  const result = await run('ip', [...args]);
  if (result.code !== 0)
    throw new Error(`ip ${args.join(' ')}: ${result.stderr.trim() || `exit ${result.code}`}`);
}

/** Builds the outside namespace; on a failure part way, removes what was built. */
export async function createOutside(
  spec: OutsideSpec,
  layout: OutsideLayout = OUTSIDE,
): Promise<OutsideNetwork> {
  const remove = async () => {
    for (const args of teardownCommands(layout)) await ip(args).catch(() => undefined);
  };
  try {
    for (const args of setupCommands(spec, layout)) await ip(args);
  } catch (error) {
    await remove();
    throw error;
  }
  return {
    layout,
    wrap: (command, args) => ['nsenter', [`--net=/run/netns/${layout.netns}`, '--', command, ...args]],
    delete: remove,
  };
}
