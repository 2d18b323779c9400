// MMPPool: a pool of Messaging Multiplexors. IMAP and POP proxies that authenticate against the
// directory and connect each user to the store named by their mailHost; optionally an SMTP
// submission proxy in front of the outbound MTA. Never an MX target.
import { z } from 'zod';
import {
  tierResourceStatus,
  dnsLabel,
  duration,
  image,
  localObjectRef,
  objectMeta,
  resources,
  service,
} from './common.ts';
import { withRules } from './rules.ts';

export const MMP_PROTOCOLS = ['imap', 'imaps', 'pop3', 'pop3s'] as const;

export const mmpPoolSpec = withRules(
  z
    .strictObject({
      topologyRef: localObjectRef.describe('The MessagingTopology this pool belongs to.'),
      replicas: z.int().min(1).max(64).default(2).describe('Number of multiplexors.'),
      protocols: z
        .array(z.enum(MMP_PROTOCOLS))
        .min(1)
        .max(4)
        .default([...MMP_PROTOCOLS])
        .describe(
          'Protocols served: imap (143, STARTTLS), imaps (993), pop3 (110, STLS), pop3s (995). Default all.',
        ),
      smtpProxy: z
        .strictObject({
          enabled: z
            .boolean()
            .default(false)
            .describe('Serve submission (587, 465) and pass it to the outbound MTA.'),
          popBeforeSmtp: z
            .strictObject({
              window: duration
                .default('10m')
                .describe('How long a POP or IMAP login allows SMTP from that address.'),
            })
            .optional()
            .describe(
              'Let clients that logged in by POP or IMAP recently submit without AUTH, from the same address.',
            ),
          outboundRef: localObjectRef
            .optional()
            .describe(
              "The outbound MTARelay to hand mail to; the topology's only outbound relay when unset.",
            ),
        })
        .prefault({})
        .describe(
          'An SMTP submission proxy: STARTTLS offload, POP-before-SMTP, client identity passed by XCLIENT.',
        ),
      access: z
        .strictObject({
          zones: z
            .array(dnsLabel)
            .max(32)
            .optional()
            .describe("Client zones (topology's network.clientZones) served; all zones when unset."),
          internet: z
            .boolean()
            .default(false)
            .describe('Also admit clients from the internet ranges (roaming users).'),
        })
        .prefault({})
        .describe('Who may connect, on top of each zone\'s own "allow" list.'),
      limits: z
        .strictObject({
          maxConnections: z
            .int()
            .min(1)
            .max(200000)
            .default(10000)
            .describe('Concurrent connections per replica.'),
          maxConnectionsPerClient: z
            .int()
            .min(1)
            .max(10000)
            .default(50)
            .describe('Concurrent connections from one client address.'),
          loginFailuresPerMinute: z
            .int()
            .min(1)
            .max(10000)
            .default(10)
            .describe('Failed logins one client address may make per minute before it is slowed down.'),
          idleTimeout: duration
            .default('30m')
            .describe('Idle IMAP sessions are closed after this (RFC 3501: at least 30m).'),
        })
        .prefault({})
        .describe('Limits that protect the pool and the stores behind it.'),
      service: service({ type: 'LoadBalancer' }).prefault({}).describe('How the pool is exposed.'),
      resources: resources.optional(),
      image: image.optional(),
    })
    .describe('A pool of Messaging Multiplexors behind a load balancer.'),
  [
    {
      cel: '!has(self.smtpProxy.popBeforeSmtp) || self.smtpProxy.enabled',
      path: ['smtpProxy', 'popBeforeSmtp'],
      message: 'popBeforeSmtp needs smtpProxy.enabled: true',
      holds: (s) => s.smtpProxy.popBeforeSmtp === undefined || s.smtpProxy.enabled,
    },
    {
      cel: '!has(self.smtpProxy.outboundRef) || self.smtpProxy.enabled',
      path: ['smtpProxy', 'outboundRef'],
      message: 'outboundRef needs smtpProxy.enabled: true',
      holds: (s) => s.smtpProxy.outboundRef === undefined || s.smtpProxy.enabled,
    },
  ],
);

export const mmpPoolStatus = tierResourceStatus({
  readyReplicas: 'Replicas ready to serve.',
  endpoint: 'Where clients connect: load balancer address or Service name.',
  example: '3/3',
})
  .extend({
    protocols: z
      .string()
      .optional()
      .describe('The protocols served, comma-separated, e.g. "imap,imaps" (for kubectl get).'),
  })
  .describe('What the operator observed.');

export const mmpPool = z.strictObject({
  apiVersion: z.literal('mtopo.dev/v1alpha1'),
  kind: z.literal('MMPPool'),
  metadata: objectMeta,
  spec: mmpPoolSpec,
  status: mmpPoolStatus.optional(),
});

export type MMPPool = z.output<typeof mmpPool>;
export type MMPPoolSpec = z.output<typeof mmpPoolSpec>;
export type MMPProtocol = (typeof MMP_PROTOCOLS)[number];
