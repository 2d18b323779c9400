// Where an address goes, and why — the MTA's routing decisions as pure functions over the config and
// one directory answer. The same functions back RCPT (refuse what cannot be delivered, while the
// sender still holds the message), delivery, and `mta route` (which prints the `why`).
//
// Order of rules for the inbound and outbound roles, first match wins:
//   1. a gateway domain (users still on a legacy system)  → the gateway
//   2. a per-domain route                                  → that host
//   3. a hosted domain                                     → the directory decides:
//        no entry → refuse 5.1.1; forwarding addresses → those; mailHost of one of our stores → its
//        LMTP; any other mailHost → the gateway (a user not migrated yet), or defer if there is none
//   4. anywhere else                                       → the smarthost, or the domain's MX hosts
// The internet role sends everything it accepts to the inbound tier; the gateway role sends by route.
import type { MtaConfig } from '../../lib/contract/mta.ts';
import type { DirectoryEntry } from '../../lib/directory/entry.ts';
import { normaliseDomain, parseMailbox, type MailAddress } from '../../lib/mail/address.ts';
import { REPLIES, type SmtpReply } from './replies.ts';

export type TlsMode = 'none' | 'opportunistic' | 'required' | 'verify';

export type Destination =
  | { kind: 'lmtp'; host: string; port: number; tls: TlsMode; label: string }
  | {
      kind: 'smtp';
      host: string;
      port: number;
      tls: TlsMode;
      label: string;
      auth?: { usernameFile: string; passwordFile: string };
    }
  | { kind: 'mx'; domain: string; tls: TlsMode; label: 'mx' };

/**
 * Messages to one destination share its connections and its concurrency limit. The TLS mode and
 * credentials are part of the key: a route that demands a verified certificate must never reuse a
 * connection opened for a route that does not.
 */
export function destinationKey(d: Destination): string {
  if (d.kind === 'mx') return `mx:${d.domain}:${d.tls}`;
  const auth = d.kind === 'smtp' && d.auth ? `:auth=${d.auth.usernameFile}` : '';
  return `${d.kind}:${d.host}:${d.port}:${d.tls}${auth}`;
}

export function describeDestination(d: Destination): string {
  return d.kind === 'mx'
    ? `MX hosts of ${d.domain} (SMTP, port 25)`
    : `${d.kind.toUpperCase()} ${d.host}:${d.port}`;
}

export type Route =
  | { kind: 'deliver'; address: string; destination: Destination; why: string }
  | { kind: 'forward'; address: string; to: string[]; why: string }
  /** Will not change: 5xx at RCPT, a bounce at delivery. */
  | { kind: 'refuse'; address: string; reply: SmtpReply; why: string }
  /** May change: 4xx at RCPT, a retry at delivery. */
  | { kind: 'defer'; address: string; reply: SmtpReply; why: string };

/** What the directory said about an address, or that it was not asked. */
export type Lookup =
  | { kind: 'not-asked' }
  | { kind: 'found'; entry: DirectoryEntry }
  | { kind: 'none' }
  | { kind: 'ambiguous' }
  | { kind: 'unavailable'; reason: string };

export interface RoutingTable {
  role: MtaConfig['role'];
  hosted: ReadonlySet<string>;
  gateway: { destination: Destination; domains: ReadonlySet<string> } | undefined;
  routes: { domains: ReadonlySet<string>; destination: Destination }[];
  /** By mailHost value, lower case. */
  stores: ReadonlyMap<string, Destination>;
  relayTo: Destination | undefined;
  smarthost: Destination | undefined;
  /** Gateway: where hosted-domain users still on a legacy system go. */
  legacyUsers: Destination | undefined;
  /** Inbound: mail for outside addresses goes to the outbound tier instead of MX. */
  outboundRelay: Destination | undefined;
}

const domainSet = (domains: readonly string[]) => new Set(domains.map(normaliseDomain));

export function buildRoutingTable(config: MtaConfig): RoutingTable {
  const stores = new Map<string, Destination>();
  const local = config.role === 'inbound' || config.role === 'outbound' ? config : undefined;
  const routes = config.role === 'outbound' || config.role === 'gateway' ? config.routes : [];
  const gatewayHandOff = local?.gateway;
  const relayTo = config.role === 'internet' ? config.relayTo : undefined;
  const smarthost = config.role === 'outbound' ? config.smarthost : undefined;
  const legacyUsers = config.role === 'gateway' ? config.legacyUsers : undefined;
  const outboundRelay = config.role === 'inbound' ? config.outboundRelay : undefined;
  const hop = (h: { host: string; port: number; tls: TlsMode }, label: string): Destination => ({
    kind: 'smtp',
    host: h.host,
    port: h.port,
    tls: h.tls,
    label,
  });
  for (const [mailHost, store] of Object.entries(local?.stores ?? {})) {
    stores.set(mailHost.toLowerCase(), {
      kind: 'lmtp',
      host: store.host,
      port: store.lmtpPort,
      tls: 'opportunistic',
      label: `store:${store.host}`,
    });
  }
  return {
    role: config.role,
    hosted: domainSet(config.domains),
    gateway: gatewayHandOff
      ? {
          domains: domainSet(gatewayHandOff.domains),
          destination: {
            kind: 'smtp',
            host: gatewayHandOff.host,
            port: gatewayHandOff.port,
            tls: 'opportunistic',
            label: 'gateway',
          },
        }
      : undefined,
    routes: routes.map((r) => ({
      domains: domainSet(r.domains),
      destination: {
        kind: 'smtp',
        host: r.to.host,
        port: r.to.port,
        tls: r.to.tls,
        label: `route:${r.to.host}`,
      },
    })),
    stores,
    relayTo: relayTo
      ? {
          kind: 'smtp',
          host: relayTo.host,
          port: relayTo.port,
          tls: relayTo.tls,
          label: 'relay',
        }
      : undefined,
    smarthost: smarthost
      ? {
          kind: 'smtp',
          host: smarthost.host,
          port: smarthost.port,
          tls: smarthost.tls,
          label: 'smarthost',
          ...(smarthost.usernameFile && smarthost.passwordFile
            ? {
                auth: {
                  usernameFile: smarthost.usernameFile,
                  passwordFile: smarthost.passwordFile,
                },
              }
            : {}),
        }
      : undefined,
    legacyUsers: legacyUsers ? hop(legacyUsers, 'legacy') : undefined,
    outboundRelay: outboundRelay ? hop(outboundRelay, 'outbound') : undefined,
  };
}

/**
 * The relay rule (who may send where), for an address a client gave at RCPT. Returns the refusal,
 * or undefined when the role takes mail for this address at all (whether it exists is routing's
 * business).
 */
export function relayRefusal(
  table: RoutingTable,
  address: MailAddress,
  mayRelay: boolean,
): SmtpReply | undefined {
  const domain = address.domain;
  switch (table.role) {
    case 'internet':
      // The DMZ relays nothing: only the site's own domains, whoever asks.
      return table.hosted.has(domain) ? undefined : REPLIES.relayDenied;
    case 'inbound':
      return table.hosted.has(domain) || table.gateway?.domains.has(domain) ? undefined : REPLIES.relayDenied;
    case 'outbound':
      // Submission relays anywhere, but only for a user who has logged in (or, on the relay port,
      // for the site's inbound tier: mayRelay).
      return mayRelay ? undefined : REPLIES.authRequired;
    case 'gateway':
      if (table.routes.some((r) => r.domains.has(domain))) return undefined;
      // The inbound tier sends hosted-domain users who are still on a legacy system.
      return table.legacyUsers && table.hosted.has(domain) ? undefined : REPLIES.relayDenied;
  }
}

/** Whether routing this address needs the directory's answer. */
export function needsDirectory(table: RoutingTable, address: MailAddress): boolean {
  if (table.role === 'internet' || table.role === 'gateway') return false;
  const domain = address.domain;
  if (table.gateway?.domains.has(domain)) return false;
  if (table.routes.some((r) => r.domains.has(domain))) return false;
  return table.hosted.has(domain);
}

export function routeAddress(table: RoutingTable, address: MailAddress, lookup: Lookup): Route {
  const a = address.address;
  const domain = address.domain;
  if (table.role === 'internet') {
    if (!table.relayTo)
      return {
        kind: 'defer',
        address: a,
        reply: REPLIES.mailboxNotRoutable,
        why: 'no inbound tier is configured',
      };
    return {
      kind: 'deliver',
      address: a,
      destination: table.relayTo,
      why: 'the internet-facing tier hands all mail to the inbound tier',
    };
  }
  const route = table.routes.find((r) => r.domains.has(domain));
  if (table.role === 'gateway') {
    if (route)
      return {
        kind: 'deliver',
        address: a,
        destination: route.destination,
        why: `${domain} has a route to a legacy system`,
      };
    if (table.legacyUsers && table.hosted.has(domain))
      return {
        kind: 'deliver',
        address: a,
        destination: table.legacyUsers,
        why: `${domain} is hosted here: a user still on the legacy system`,
      };
    return { kind: 'refuse', address: a, reply: REPLIES.relayDenied, why: `no route covers ${domain}` };
  }
  if (table.gateway?.domains.has(domain)) {
    return {
      kind: 'deliver',
      address: a,
      destination: table.gateway.destination,
      why: `${domain} is a gateway domain (legacy system)`,
    };
  }
  if (route)
    return {
      kind: 'deliver',
      address: a,
      destination: route.destination,
      why: `${domain} has its own route`,
    };
  if (table.hosted.has(domain)) return routeHosted(table, address, lookup);
  if (table.outboundRelay)
    return {
      kind: 'deliver',
      address: a,
      destination: table.outboundRelay,
      why: `${domain} is remote; mail for the outside leaves through the outbound tier`,
    };
  if (table.smarthost)
    return {
      kind: 'deliver',
      address: a,
      destination: table.smarthost,
      why: `${domain} is remote; all remote mail goes through the smarthost`,
    };
  return {
    kind: 'deliver',
    address: a,
    destination: { kind: 'mx', domain, tls: 'opportunistic', label: 'mx' },
    why: `${domain} is remote; delivered to its MX hosts`,
  };
}

function routeHosted(table: RoutingTable, address: MailAddress, lookup: Lookup): Route {
  const a = address.address;
  switch (lookup.kind) {
    case 'not-asked':
      return {
        kind: 'defer',
        address: a,
        reply: REPLIES.directoryUnavailable,
        why: 'the directory was not asked',
      };
    case 'unavailable':
      // Never "no such user" because the directory is down: that would bounce real mail.
      return {
        kind: 'defer',
        address: a,
        reply: REPLIES.directoryUnavailable,
        why: `the directory could not answer: ${lookup.reason}`,
      };
    case 'ambiguous':
      return {
        kind: 'defer',
        address: a,
        reply: REPLIES.ambiguousUser,
        why: 'more than one directory entry claims this address',
      };
    case 'none':
      return {
        kind: 'refuse',
        address: a,
        reply: REPLIES.unknownUser,
        why: `${address.domain} is hosted here and no directory entry has this address`,
      };
    case 'found':
      break;
  }
  const entry = lookup.entry;
  if (entry.forwardTo.length > 0) {
    return {
      kind: 'forward',
      address: a,
      to: entry.forwardTo,
      why: `${entry.dn} forwards its mail to ${entry.forwardTo.join(', ')}`,
    };
  }
  const mailHost = entry.mailHost?.toLowerCase();
  if (mailHost) {
    const store = table.stores.get(mailHost);
    // The store keys a mailbox by its owner's primary address (it has no directory): mail for an
    // alias is handed over under that address, or it would open a mailbox of its own.
    if (store)
      return {
        kind: 'deliver',
        address: entry.mail ?? a,
        destination: store,
        why: `${entry.dn} has mailHost ${entry.mailHost}, a store of this site${entry.mail !== undefined && entry.mail.toLowerCase() !== a.toLowerCase() ? `, whose mailbox is ${entry.mail}` : ''}`,
      };
    if (table.gateway) {
      return {
        kind: 'deliver',
        address: a,
        destination: table.gateway.destination,
        why: `${entry.dn} has mailHost ${entry.mailHost}, which is not a store of this site: a legacy user, sent to the gateway`,
      };
    }
    return {
      kind: 'defer',
      address: a,
      reply: REPLIES.mailboxNotRoutable,
      why: `mailHost ${entry.mailHost} is not a store of this site and there is no gateway`,
    };
  }
  return { kind: 'defer', address: a, reply: REPLIES.mailboxNotRoutable, why: `${entry.dn} has no mailHost` };
}

/** A leaf of the routing tree: one final address and what happens to it, with the reasons on the way. */
export interface ResolvedRecipient {
  /** The address given (at RCPT or in the queue). */
  original: string;
  route: Exclude<Route, { kind: 'forward' }>;
  /** Why, from the original address down to this leaf. */
  trail: string[];
}

export type DirectoryLookup = (address: string) => Promise<Lookup>;

/** Forwarding chains longer than this are taken for loops. */
const MAX_FORWARD_DEPTH = 8;

/**
 * Resolves an address to its final destinations, following forwarding addresses (each asked of the
 * directory in turn). A loop, or a chain deeper than MAX_FORWARD_DEPTH, is refused with 5.4.6.
 */
export class RecipientRouter {
  readonly #table: RoutingTable;
  readonly #lookup: DirectoryLookup;

  constructor(table: RoutingTable, lookup: DirectoryLookup) {
    this.#table = table;
    this.#lookup = lookup;
  }

  get table(): RoutingTable {
    return this.#table;
  }

  async routeOne(address: MailAddress): Promise<Route> {
    const lookup = needsDirectory(this.#table, address)
      ? await this.#lookup(address.address)
      : ({ kind: 'not-asked' } as const);
    return routeAddress(this.#table, address, lookup);
  }

  async resolve(address: MailAddress): Promise<ResolvedRecipient[]> {
    const leaves: ResolvedRecipient[] = [];
    const walk = async (current: MailAddress, trail: string[], seen: Set<string>): Promise<void> => {
      const route = await this.routeOne(current);
      const here = [...trail, `${current.address}: ${route.why}`];
      if (route.kind !== 'forward') {
        leaves.push({ original: address.address, route, trail: here });
        return;
      }
      for (const target of route.to) {
        const parsed = parseMailbox(target, { smtpUtf8: true });
        if (!parsed.ok) {
          leaves.push({
            original: address.address,
            route: {
              kind: 'refuse',
              address: target,
              reply: REPLIES.badAddressSyntax,
              why: `forwarding address ${target} is not a valid address`,
            },
            trail: here,
          });
          continue;
        }
        const key = parsed.value.address.toLowerCase();
        if (seen.has(key) || seen.size >= MAX_FORWARD_DEPTH) {
          leaves.push({
            original: address.address,
            route: {
              kind: 'refuse',
              address: target,
              reply: REPLIES.forwardingLoop,
              why: `forwarding to ${target} loops or goes too deep`,
            },
            trail: here,
          });
          continue;
        }
        await walk(parsed.value, here, new Set([...seen, key]));
      }
    };
    await walk(address, [], new Set([address.address.toLowerCase()]));
    return leaves;
  }
}
