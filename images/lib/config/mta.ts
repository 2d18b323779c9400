// The MTA program's config contract (images/mta), one file per MTARelay.
import { z } from 'zod';
import { commonConfig, directoryConfig, listenerConfig, storeMapConfig } from './common.ts';

export const nextHopConfig = z.strictObject({
  host: z.string().min(1),
  port: z.int().min(1).max(65535),
  tls: z.enum(['none', 'opportunistic', 'required', 'verify']),
});

export const mtaConfig = z.strictObject({
  program: z.literal('mta'),
  role: z.enum(['internet', 'inbound', 'outbound', 'gateway']),
  common: commonConfig,
  listeners: z.array(listenerConfig).min(1),
  /** Hosted domains: the only recipient domains accepted from outside. */
  domains: z.array(z.string()).min(1),
  /** Absent for the internet role: the DMZ knows no directory. */
  directory: directoryConfig.optional(),
  /** Internet role: everything accepted goes here (the inbound tier). */
  relayTo: nextHopConfig.optional(),
  /** Inbound and outbound: local recipients' stores, by mailHost. */
  stores: storeMapConfig.default({}),
  /** Inbound and outbound: where recipients on a legacy system (or in gateway domains) go. */
  gateway: z.strictObject({ host: z.string(), port: z.int(), domains: z.array(z.string()) }).optional(),
  /** Gateway and outbound: per-domain next hops. */
  routes: z.array(z.strictObject({ domains: z.array(z.string()).min(1), to: nextHopConfig })).default([]),
  /** Outbound: all remote mail through this host instead of MX. */
  smarthost: nextHopConfig
    .extend({ usernameFile: z.string().optional(), passwordFile: z.string().optional() })
    .optional(),
  /** Outbound: XCLIENT is honoured only from peers that present this shared secret (the MMP SMTP proxy). */
  xclient: z
    .strictObject({
      secretFile: z.string().min(1),
      /** Where the proxy's connections come from (the cluster's pod CIDRs). Absent: loopback and private ranges. */
      peerCidrs: z.array(z.string()).optional(),
    })
    .optional(),
  /**
   * Inbound and gateway: the only client addresses served (the tiers that feed this one, i.e. the
   * cluster's pod CIDRs); others get 554 at connect. Absent: loopback and private ranges.
   */
  acceptFrom: z.array(z.string()).optional(),
  limits: z.strictObject({
    maxMessageBytes: z.int().min(1),
    maxRecipients: z.int().min(1),
    messagesPerMinutePerClient: z.int().min(1),
    deliveryConcurrency: z.int().min(1),
  }),
  queue: z.strictObject({
    dir: z.string().min(1),
    lifetimeSeconds: z.int().min(60),
    retryInitialSeconds: z.int().min(1),
    retryMaxSeconds: z.int().min(1),
  }),
});

export type MtaConfig = z.output<typeof mtaConfig>;
