// What `mta route ADDRESS` prints: what this tier answers at RCPT TO for the address and, when it
// accepts, every final destination with the reasons. It calls the same decision the server makes at
// RCPT (receiving/recipient-decision.ts) — at the edge that includes asking the inbound tier — and
// the same routing the delivery uses, so it cannot say "250" where the server says 550.
// (A module of main.ts, which is the only entry point.)
import type { MtaConfig } from '../lib/contract/mta.ts';
import type { Channel } from './core/policy.ts';
import { replyLine } from './core/replies.ts';
import {
  buildRoutingTable,
  describeDestination,
  RecipientRouter,
  type DirectoryLookup,
} from './core/routing.ts';
import type { RecipientVerifier } from './delivery/recipient-probe.ts';
import { decideRecipient } from './receiving/recipient-decision.ts';

export interface RouteExplanation {
  address: string;
  /** What a client sending to this address would be told at RCPT TO (for the outbound tier: a logged-in user). */
  atRcpt: string;
  /** Where the mail would go; empty when RCPT refuses it (nothing would be queued). */
  destinations: { address: string; outcome: string; via?: string; why: string[] }[];
}

export async function explainRoute(
  config: MtaConfig,
  address: string,
  lookup: DirectoryLookup,
  verifier?: RecipientVerifier,
): Promise<RouteExplanation> {
  // Each address is asked of the directory once, even though RCPT and delivery are both explained.
  const answers = new Map<string, ReturnType<DirectoryLookup>>();
  const router = new RecipientRouter(buildRoutingTable(config), (a) => {
    const key = a.toLowerCase();
    if (!answers.has(key)) answers.set(key, lookup(a));
    return answers.get(key)!;
  });
  const channel: Channel = config.role === 'outbound' ? 'submission' : 'mx';
  const decision = await decideRecipient({
    router,
    verifier,
    channel,
    recipient: address,
    smtpUtf8: true,
    user: config.role === 'outbound' ? { kind: 'user', login: '(any user)', addresses: [] } : undefined,
  });
  if (decision.kind === 'refuse')
    return { address, atRcpt: `refused: ${replyLine(decision.reply)} (${decision.why})`, destinations: [] };
  const leaves = await router.resolve(decision.address);
  return {
    address: decision.address.address,
    atRcpt: decision.unverified ? `accepted (250), not verified: ${decision.unverified}` : 'accepted (250)',
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
