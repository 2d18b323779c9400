// `mtopo status`: what a user asks of a running site, on one screen — is it Ready and if not why,
// each tier's replicas, where it is reached, the stores users may be placed on, and the DNS records
// to publish. Pure: from the live objects as read from the API server (cli/live-site.ts) to text.
import type { z } from 'zod';
import type { Condition } from '../api/common.ts';
import type { messagingTopologyStatus } from '../api/messaging-topology.ts';
import type { LiveSite, LiveMember } from './live-site.ts';

type TopologyStatus = z.output<typeof messagingTopologyStatus>;

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => `  ${r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')}`.trimEnd()).join('\n');
}

const conditionLine = (c: Condition) => `${c.type}=${c.status} (${c.reason}): ${c.message}`;

function memberReady(member: LiveMember): string {
  const ready = member.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready === undefined) return 'not reconciled yet';
  return ready.status === 'True' ? 'Ready' : `${ready.reason}: ${ready.message}`;
}

/**
 * `owners`: each tier's own resource (tier name → kind and name, as the renderer resolves them), so a
 * tier's row carries that resource's Ready message; the stores belong to the topology itself.
 */
export function statusReport(
  site: LiveSite,
  owners: ReadonlyMap<string, { kind: string; name: string }>,
): string {
  const { topology } = site;
  const status: TopologyStatus = topology.status ?? {};
  const name = `${topology.metadata.namespace}/${topology.metadata.name}`;
  const lines: string[] = [];
  const ready = status.conditions?.find((c) => c.type === 'Ready');
  const stale =
    status.observedGeneration !== undefined && status.observedGeneration !== topology.metadata.generation;
  lines.push(
    `MessagingTopology ${name}: ${ready === undefined ? 'not reconciled yet (is the operator running?)' : ready.status === 'True' ? 'Ready' : 'not Ready'}` +
      (stale
        ? ` (status is of generation ${status.observedGeneration}; the spec is at ${topology.metadata.generation})`
        : ''),
  );
  for (const c of status.conditions ?? []) lines.push(`  ${conditionLine(c)}`);

  const members = new Map([...site.relays, ...site.pools].map((m) => [`${m.kind}/${m.metadata.name}`, m]));
  if ((status.tiers ?? []).length > 0) {
    lines.push('', 'Tiers');
    lines.push(
      table([
        ['TIER', 'RESOURCE', 'ROLE', 'READY', 'STATE'],
        ...(status.tiers ?? []).map((t) => {
          const owner = owners.get(t.name);
          const key = owner === undefined ? t.kind : `${owner.kind}/${owner.name}`;
          const member = members.get(key);
          const state =
            t.readyReplicas >= t.replicas
              ? 'Ready'
              : member !== undefined
                ? memberReady(member)
                : `waiting for ${t.replicas - t.readyReplicas} of ${t.replicas} replicas`;
          return [t.name, key, t.role, `${t.readyReplicas}/${t.replicas}`, state];
        }),
      ]),
    );
  }
  const shown = new Set([...owners.values()].map((o) => `${o.kind}/${o.name}`));
  const unattached = [...members.entries()].filter(([key]) => !shown.has(key));
  if (unattached.length > 0) {
    lines.push('', 'Not part of the site yet');
    for (const [key, member] of unattached) lines.push(`  ${key}: ${memberReady(member)}`);
  }

  if ((status.endpoints ?? []).length > 0) {
    lines.push('', 'Endpoints');
    lines.push(
      table([
        ['SERVES', 'ADDRESS', 'PORTS'],
        ...(status.endpoints ?? []).map((e) => [e.name, e.address, e.ports.join(',')]),
      ]),
    );
  }
  if ((status.mailHosts ?? []).length > 0) {
    lines.push('', "Stores (a user's mailHost names one, by either name)");
    lines.push(table([['MAILHOST', 'DNS NAME'], ...(status.mailHosts ?? []).map((m) => [m.name, m.host])]));
  }
  if ((status.dnsRecords ?? []).length > 0) {
    lines.push('', 'DNS records to publish');
    lines.push(
      table([
        ['NAME', 'TYPE', 'VALUE'],
        ...(status.dnsRecords ?? []).map((r) => [
          r.name,
          r.type,
          r.priority === undefined ? r.value : `${r.priority} ${r.value}`,
        ]),
      ]),
    );
  }
  return `${lines.join('\n')}\n`;
}
