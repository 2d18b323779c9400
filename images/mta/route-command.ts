// `mta route ADDRESS`: where an address would go from this tier, and why — the same routing code
// the MTA runs at RCPT and at delivery, with the directory answers printed along the way.
import type { MtaConfig } from '../lib/contract/mta.ts';
import { parseMailbox } from './core/address.ts';
import { recipientVerdict } from './core/policy.ts';
import { replyLine } from './core/replies.ts';
import {
  buildRoutingTable,
  describeDestination,
  RecipientRouter,
  type DirectoryLookup,
} from './core/routing.ts';

export interface RouteExplanation {
  address: string;
  /** What a client sending to this address would be told at RCPT TO (assuming it may relay, for the outbound tier). */
  atRcpt: string;
  destinations: { address: string; outcome: string; via?: string; why: string[] }[];
}

export async function explainRoute(
  config: MtaConfig,
  address: string,
  lookup: DirectoryLookup,
): Promise<RouteExplanation> {
  const table = buildRoutingTable(config);
  // Each address is asked of the directory once, even though RCPT and delivery are both explained.
  const answers = new Map<string, ReturnType<DirectoryLookup>>();
  const router = new RecipientRouter(table, (a) => {
    const key = a.toLowerCase();
    if (!answers.has(key)) answers.set(key, lookup(a));
    return answers.get(key)!;
  });
  const parsed = parseMailbox(address, { smtpUtf8: true });
  if (!parsed.ok)
    return { address, atRcpt: `refused: not an address we accept (${parsed.problem})`, destinations: [] };
  const verdict = recipientVerdict({
    table,
    recipient: address,
    smtpUtf8: true,
    user: config.role === 'outbound' ? { kind: 'user', login: '(any user)', addresses: [] } : undefined,
  });
  const leaves = await router.resolve(parsed.value);
  const first = await router.routeOne(parsed.value);
  const atRcpt = !verdict.ok
    ? `refused: ${replyLine(verdict.reply)}`
    : first.kind === 'refuse' || first.kind === 'defer'
      ? `refused: ${replyLine(first.reply)}`
      : 'accepted (250)';
  return {
    address: parsed.value.address,
    atRcpt,
    destinations: leaves.map((leaf) => {
      const r = leaf.route;
      if (r.kind === 'deliver') {
        return {
          address: r.address,
          outcome: 'deliver',
          via: describeDestination(r.destination),
          why: leaf.trail,
        };
      }
      return {
        address: r.address,
        outcome: `${r.kind === 'refuse' ? 'bounce' : 'defer'}: ${replyLine(r.reply)}`,
        why: leaf.trail,
      };
    }),
  };
}

export function formatExplanation(role: string, e: RouteExplanation): string {
  const lines = [`${e.address} from the ${role} tier`, `  at RCPT TO: ${e.atRcpt}`];
  for (const d of e.destinations) {
    lines.push(`  → ${d.address}: ${d.outcome}${d.via ? ` via ${d.via}` : ''}`);
    for (const why of d.why) lines.push(`      because ${why}`);
  }
  return `${lines.join('\n')}\n`;
}
