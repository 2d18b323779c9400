// MTARelay: one MTA tier of a topology. The role decides what it accepts and where it may send;
// the firewall model (render/firewall) draws its walls from the role.
import { z } from 'zod';
import {
  tierResourceStatus,
  byteQuantity,
  domainName,
  duration,
  image,
  localObjectRef,
  objectMeta,
  resources,
  service,
  storage,
} from './common.ts';
import { withRules } from './rules.ts';

export const MTA_ROLES = ['internet', 'inbound', 'outbound', 'gateway'] as const;
export const mtaRole = z
  .enum(MTA_ROLES)
  .describe(
    'internet: the DMZ entry for mail from outside (hosted domains only, hands all to the inbound tier); inbound: checks recipients in the directory and delivers to stores or the gateway; outbound: authenticated submission, delivers locally, to the gateway or to the internet; gateway: relays to legacy systems.',
  );

const tlsMode = z
  .enum(['none', 'opportunistic', 'required', 'verify'])
  .describe(
    'TLS towards the next hop: none; opportunistic (STARTTLS when offered); required (STARTTLS or fail); verify (required, and the certificate must match the host name).',
  );

const nextHop = z
  .strictObject({
    host: domainName.describe('Host name or address of the next hop.'),
    port: z.int().min(1).max(65535).default(25).describe('Port. Default 25.'),
    tls: tlsMode.default('opportunistic'),
  })
  .describe('An SMTP server to relay to.');

const route = z
  .strictObject({
    domains: z.array(domainName).min(1).max(64).describe('Recipient domains this route covers.'),
    to: nextHop,
  })
  .describe('Send mail for these domains to this host.');

const smarthost = nextHop
  .extend({
    authSecretRef: localObjectRef
      .optional()
      .describe('Secret with "username" and "password" for AUTH at the smarthost.'),
  })
  .describe('Send all remote mail through this host instead of looking up MX records.');

export const mtaRelaySpec = withRules(
  z
    .strictObject({
      topologyRef: localObjectRef.describe('The MessagingTopology this tier belongs to.'),
      role: mtaRole,
      replicas: z
        .int()
        .min(1)
        .max(32)
        .default(2)
        .describe('Number of MTA replicas, each with its own queue volume.'),
      queue: z
        .strictObject({
          storage: storage('5Gi').prefault({}),
          lifetime: duration
            .default('5d')
            .describe(
              'How long a message is retried before it is returned to its sender (RFC 3464 DSN). Default "5d".',
            ),
          retryInitial: duration.default('1m').describe('First retry delay; doubles each try. Default "1m".'),
          retryMax: duration.default('1h').describe('Longest retry delay. Default "1h".'),
        })
        .prefault({})
        .describe('The on-disk queue. A message is fsynced here before it is acknowledged.'),
      limits: z
        .strictObject({
          maxMessageSize: byteQuantity
            .default('25Mi')
            .describe('Largest message accepted (SIZE). Default "25Mi".'),
          maxRecipients: z
            .int()
            .min(1)
            .max(10000)
            .default(100)
            .describe('Recipients per message; more get 452 4.5.3. Default 100.'),
          maxConnections: z
            .int()
            .min(1)
            .max(100000)
            .default(1000)
            .describe('Concurrent connections per replica. Default 1000.'),
          maxConnectionsPerClient: z
            .int()
            .min(1)
            .max(10000)
            .default(20)
            .describe('Concurrent connections from one client address. Default 20.'),
          messagesPerMinutePerClient: z
            .int()
            .min(1)
            .max(1000000)
            .default(600)
            .describe('Messages one client address may send per minute per replica. Default 600.'),
          deliveryConcurrency: z
            .int()
            .min(1)
            .max(1000)
            .default(20)
            .describe('Parallel deliveries to one destination. Default 20.'),
        })
        .prefault({})
        .describe('Limits that protect the tier and its neighbours.'),
      routes: z
        .array(route)
        .max(64)
        .optional()
        .describe('Per-domain relays (gateway role: the legacy systems; outbound role: exceptions to MX).'),
      smarthost: smarthost.optional(),
      submission: z
        .strictObject({
          acceptFromClients: z
            .boolean()
            .default(true)
            .describe(
              'Clients in zones allowing submission reach this tier directly; false: only through an MMP SMTP proxy.',
            ),
        })
        .prefault({})
        .describe('Outbound role: mail submission on 587 (STARTTLS) and 465 (implicit TLS).'),
      service: service({ type: 'LoadBalancer for internet, ClusterIP otherwise' }).prefault({}),
      resources: resources.optional(),
      image: image.optional(),
    })
    .describe('One MTA tier of a messaging topology.'),
  [
    {
      cel: "!(self.role in ['inbound', 'gateway']) || !has(self.service.type) || self.service.type == 'ClusterIP'",
      path: ['service', 'type'],
      message: 'inbound and gateway tiers are internal: service.type must be ClusterIP',
      holds: (s) =>
        !(s.role === 'inbound' || s.role === 'gateway') || (s.service.type ?? 'ClusterIP') === 'ClusterIP',
    },
    {
      cel: "!(self.role in ['inbound', 'gateway']) || !has(self.service.proxyProtocol) || self.service.proxyProtocol == 'none'",
      path: ['service', 'proxyProtocol'],
      message:
        'inbound and gateway tiers are reached inside the cluster only, never through a load balancer: service.proxyProtocol must be "none"',
      holds: (s) => !(s.role === 'inbound' || s.role === 'gateway') || s.service.proxyProtocol === 'none',
    },
    {
      cel: "!has(self.routes) || self.role in ['gateway', 'outbound']",
      path: ['routes'],
      message:
        'routes are for the gateway and outbound roles; the internet and inbound roles route by the directory',
      holds: (s) => s.routes === undefined || s.role === 'gateway' || s.role === 'outbound',
    },
    {
      cel: "self.role != 'gateway' || (has(self.routes) && size(self.routes) > 0)",
      path: ['routes'],
      message: 'a gateway needs at least one route: which legacy host receives which domains',
      holds: (s) => s.role !== 'gateway' || (s.routes?.length ?? 0) > 0,
    },
    {
      cel: "!has(self.smarthost) || self.role == 'outbound'",
      path: ['smarthost'],
      message: 'smarthost is for the outbound role only',
      holds: (s) => s.smarthost === undefined || s.role === 'outbound',
    },
  ],
);

export const mtaRelayStatus = tierResourceStatus({
  readyReplicas: 'Replicas ready to accept mail.',
  endpoint: 'Where this tier is reached: load balancer address or Service name.',
  example: '2/2',
});

export const mtaRelay = z.strictObject({
  apiVersion: z.literal('mtopo.dev/v1alpha1'),
  kind: z.literal('MTARelay'),
  metadata: objectMeta,
  spec: mtaRelaySpec,
  status: mtaRelayStatus.optional(),
});

export type MTARelay = z.output<typeof mtaRelay>;
export type MTARelaySpec = z.output<typeof mtaRelaySpec>;
export type MTARole = z.output<typeof mtaRole>;
