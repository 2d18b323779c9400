// `mtopo route ADDRESS`: ask a running MTA tier how it would route an address. The answer comes
// from the tier itself — `mta route` (images/mta/explain-route.ts) run in one of its Ready pods,
// the same decision its RCPT TO makes with its own config and its own view of the directory — so
// it cannot disagree with what the tier does. The choices (which tier, which pod, what to run) are
// pure; listing pods and `kubectl exec` sit at the edge (cli/main.ts).
import { componentOf } from '../render/labels.ts';
import type { RelayTier, Site } from '../render/site.ts';

export type Choice<T> = { ok: true; value: T } | { ok: false; error: string };

const named = (tier: RelayTier) => `${tier.owner.name} (${tier.role})`;

/**
 * The tier to ask: the one `wanted` names (its MTARelay's name or its tier name), else the site's
 * inbound tier — the one that decides where mail for hosted users goes.
 */
export function routeTier(site: Site, wanted?: string): Choice<RelayTier> {
  const relays = site.relays;
  const choices = relays.map(named).join(', ') || 'none';
  if (wanted !== undefined) {
    const tier = relays.find((t) => t.owner.name === wanted || t.name === wanted);
    return tier
      ? { ok: true, value: tier }
      : {
          ok: false,
          error: `topology ${site.topology.metadata.name} has no MTA tier ${JSON.stringify(wanted)}; its MTA tiers: ${choices}`,
        };
  }
  const inbound = relays.filter((t) => t.role === 'inbound');
  const [only] = inbound;
  if (inbound.length === 1 && only) return { ok: true, value: only };
  return {
    ok: false,
    error:
      inbound.length === 0
        ? `topology ${site.topology.metadata.name} has no inbound tier; choose one of its MTA tiers with --tier: ${choices}`
        : `topology ${site.topology.metadata.name} has ${inbound.length} inbound tiers; choose one with --tier: ${inbound.map(named).join(', ')}`,
  };
}

export interface PodView {
  metadata?: { name?: string; deletionTimestamp?: unknown };
  status?: { conditions?: { type?: string; status?: string }[] };
}

/** The first Ready pod by name that is not being deleted: a stopping pod no longer answers. */
export function readyPod(pods: readonly PodView[]): string | undefined {
  return pods
    .filter(
      (p) =>
        p.metadata?.deletionTimestamp === undefined &&
        (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    )
    .map((p) => p.metadata?.name ?? '')
    .filter((name) => name !== '')
    .sort()[0];
}

/**
 * kubectl's arguments to run `mta route` in the pod. The image's working directory is its program
 * root (images/build/program-images.ts), where the MTA's entry point is images/mta/main.js; the
 * config is at its default path, as the container runs it.
 */
export function routeExecArgs(
  tier: RelayTier,
  namespace: string,
  pod: string,
  address: string,
  json: boolean,
): string[] {
  return [
    '-n',
    namespace,
    'exec',
    pod,
    '-c',
    componentOf(tier.role),
    '--',
    'node',
    'images/mta/main.js',
    'route',
    address,
    ...(json ? ['--json'] : []),
  ];
}
