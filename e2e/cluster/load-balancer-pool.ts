// Which LoadBalancer Service gets which address: pure, so the rules are tested without a cluster.
// An address, once given, stays with its Service while the Service exists and stays a LoadBalancer;
// a Service asking for one (spec.loadBalancerIP) gets it if it is in the pool and free; the rest
// get the lowest free addresses in a stable order (oldest first), so a restart of the controller
// hands out the same addresses again.

export interface LoadBalancerService {
  /** namespace/name */
  readonly key: string;
  /** RFC 3339, for the stable order. */
  readonly created: string;
  /** The address already in status.loadBalancer.ingress, if any. */
  readonly current?: string | undefined;
  /** spec.loadBalancerIP, if set. */
  readonly requested?: string | undefined;
}

export interface PoolRange {
  readonly first: string;
  readonly last: string;
}

export interface Assignment {
  /** namespace/name → address. */
  readonly addresses: ReadonlyMap<string, string>;
  /** Services left without an address, with the reason (for an Event or a log line). */
  readonly unassigned: ReadonlyMap<string, string>;
}

function toNumber(address: string): number {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((part) => !Number.isInteger(part) || part < 0 || part > 255))
    throw new Error(`not an IPv4 address: ${JSON.stringify(address)}`);
  return parts.reduce((value, part) => value * 256 + part, 0);
}

function toAddress(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export function poolContains(pool: PoolRange, address: string): boolean {
  try {
    const value = toNumber(address);
    return value >= toNumber(pool.first) && value <= toNumber(pool.last);
  } catch {
    return false;
  }
}

export function assignAddresses(services: readonly LoadBalancerService[], pool: PoolRange): Assignment {
  const addresses = new Map<string, string>();
  const unassigned = new Map<string, string>();
  const taken = new Set<string>();
  const ordered = [...services].sort(
    (a, b) => a.created.localeCompare(b.created) || a.key.localeCompare(b.key),
  );

  // Keep what is given, then grant what is asked for, then fill from the bottom of the pool.
  for (const service of ordered) {
    const { current } = service;
    if (current !== undefined && poolContains(pool, current) && !taken.has(current)) {
      addresses.set(service.key, current);
      taken.add(current);
    }
  }
  for (const service of ordered) {
    const { requested } = service;
    if (addresses.has(service.key) || requested === undefined || requested === '') continue;
    if (!poolContains(pool, requested))
      unassigned.set(
        service.key,
        `spec.loadBalancerIP ${requested} is outside the pool ${pool.first}-${pool.last}`,
      );
    else if (taken.has(requested))
      unassigned.set(service.key, `spec.loadBalancerIP ${requested} is taken by another Service`);
    else {
      addresses.set(service.key, requested);
      taken.add(requested);
    }
  }
  let next = toNumber(pool.first);
  const last = toNumber(pool.last);
  for (const service of ordered) {
    if (addresses.has(service.key) || unassigned.has(service.key)) continue;
    while (next <= last && taken.has(toAddress(next))) next++;
    if (next > last) {
      unassigned.set(service.key, `the pool ${pool.first}-${pool.last} is used up`);
      continue;
    }
    const address = toAddress(next);
    addresses.set(service.key, address);
    taken.add(address);
  }
  return { addresses, unassigned };
}

/** What to add to and remove from the interface that answers for the pool's addresses. */
export function addressChanges(
  wanted: Iterable<string>,
  present: Iterable<string>,
): { add: string[]; remove: string[] } {
  const wantedSet = new Set(wanted);
  const presentSet = new Set(present);
  return {
    add: [...wantedSet].filter((address) => !presentSet.has(address)).sort(),
    remove: [...presentSet].filter((address) => !wantedSet.has(address)).sort(),
  };
}
