// The MTA program's config contract (images/mta), one file per MTARelay. One schema per role, joined
// on `role`: a field that only one role uses is typed for that role and refused for the others, so a
// config the program cannot use is caught where it is parsed, not at start-up.
import { z } from 'zod';
import { addressList } from './address-list.ts';
import { commonConfig, directoryConfig, listenerConfig, storeMapConfig } from './common.ts';

export const MTA_ROLES = ['internet', 'inbound', 'outbound', 'gateway'] as const;

export const nextHopConfig = z.strictObject({
  host: z.string().min(1),
  port: z.int().min(1).max(65535),
  tls: z.enum(['none', 'opportunistic', 'required', 'verify']),
});

/**
 * The limits every role shares. The defaults and the reason for each number are in
 * images/mta/limits.ts; the renderer sets the ones the MTARelay's spec names.
 */
export const mtaLimitsConfig = z.strictObject({
  maxMessageBytes: z.int().min(1),
  maxRecipients: z.int().min(1),
  messagesPerMinutePerClient: z.int().min(1),
  deliveryConcurrency: z.int().min(1),
  /**
   * New connections per minute from one client address (internet and outbound tiers). With the busy
   * command deadline, a slow client that reconnects as soon as it is cut cannot hold its share of
   * the slots for long (Postfix's smtpd_client_connection_rate_limit).
   */
  connectionsPerMinutePerClient: z.int().min(1).default(120),
  /** Seconds a client may take to send one whole command line (RFC 5321 section 4.5.3.2.7: 5 minutes). */
  commandTimeoutSeconds: z.int().min(1).default(300),
  /** The same, when the listener is more than three quarters full (Postfix's stress-dependent smtpd_timeout). */
  busyCommandTimeoutSeconds: z.int().min(1).default(10),
  /** Seconds for the whole DATA phase, from the 354 to the final dot. */
  dataTimeoutSeconds: z.int().min(1).default(600),
  /** After the first 30 s of DATA, a message slower than this on average is cut off (421). */
  minDataBytesPerSecond: z.int().min(0).default(1024),
  /** Refused recipients (unknown users, relay attempts) after which a session is slowed down. */
  recipientErrorsBeforeDelay: z.int().min(1).default(5),
  /** Refused recipients after which the session is closed with 421 (Postfix's smtpd_hard_error_limit). */
  recipientErrorsPerSession: z.int().min(1).default(20),
  /** Failed logins from one address, or for one account, answered at once; each next answer waits longer. */
  authFailuresBeforeDelay: z.int().min(0).default(2),
  /** Failed logins from one address, or for one account, within 15 minutes before AUTH is refused. */
  authFailuresBeforeLockout: z.int().min(1).default(10),
  /** Below this many free bytes in the queue's file system, new mail gets 452 4.3.1. */
  minFreeSpoolBytes: z.int().min(0).optional(),
});

export const mtaQueueConfig = z.strictObject({
  dir: z.string().min(1),
  lifetimeSeconds: z.int().min(60),
  retryInitialSeconds: z.int().min(1),
  retryMaxSeconds: z.int().min(1),
});

const base = {
  program: z.literal('mta'),
  common: commonConfig,
  listeners: z.array(listenerConfig).min(1),
  /** Hosted domains: the only recipient domains accepted from outside. */
  domains: z.array(z.string()).min(1),
  limits: mtaLimitsConfig,
  queue: mtaQueueConfig,
};

/** Inbound and outbound: where recipients on a legacy system (or in gateway domains) go. */
const gatewayHandOff = z.strictObject({
  host: z.string().min(1),
  port: z.int(),
  domains: z.array(z.string()),
});

/**
 * The client networks served (the tiers that feed this one, i.e. the cluster's pod CIDRs); others
 * get 554 at connect. Absent: loopback and the private ranges.
 */
const acceptFrom = addressList.optional();

export const internetMtaConfig = z.strictObject({
  ...base,
  role: z.literal('internet'),
  /** Everything accepted goes here (the inbound tier); the DMZ knows no directory. */
  relayTo: nextHopConfig,
});

export const inboundMtaConfig = z.strictObject({
  ...base,
  role: z.literal('inbound'),
  directory: directoryConfig,
  /** Local recipients' stores, by mailHost. */
  stores: storeMapConfig.default({}),
  gateway: gatewayHandOff.optional(),
  acceptFrom,
  /**
   * Mail for addresses outside the site (forwarding, bounces to outside senders) goes to the
   * outbound tier, the only tier the firewall lets out. Absent: delivered by MX from here.
   */
  outboundRelay: nextHopConfig.optional(),
});

export const outboundMtaConfig = z.strictObject({
  ...base,
  role: z.literal('outbound'),
  directory: directoryConfig,
  stores: storeMapConfig.default({}),
  gateway: gatewayHandOff.optional(),
  /** Per-domain next hops. */
  routes: z.array(z.strictObject({ domains: z.array(z.string()).min(1), to: nextHopConfig })).default([]),
  /** All remote mail through this host instead of MX. */
  smarthost: nextHopConfig
    .extend({ usernameFile: z.string().optional(), passwordFile: z.string().optional() })
    .optional(),
  /** XCLIENT is honoured only from peers that present this shared secret (the MMP SMTP proxy). */
  xclient: z
    .strictObject({
      secretFile: z.string().min(1),
      /** Where the proxy's connections come from (the cluster's pod CIDRs). Absent: loopback and private ranges. */
      peerCidrs: addressList.optional(),
    })
    .optional(),
  /**
   * The site's own tiers (the inbound tier) hand over mail for the outside on the `smtp` listener,
   * without AUTH, from these networks only. Absent: that listener serves loopback and private ranges.
   */
  relayFrom: addressList.optional(),
});

export const gatewayMtaConfig = z.strictObject({
  ...base,
  role: z.literal('gateway'),
  /** Per-domain next hops: the legacy systems. */
  routes: z.array(z.strictObject({ domains: z.array(z.string()).min(1), to: nextHopConfig })).min(1),
  /**
   * Users of the hosted domains who are still on a legacy system (their mailHost names no store):
   * the inbound tier sends them here, and they go on to this host.
   */
  legacyUsers: nextHopConfig.optional(),
  acceptFrom,
});

export const mtaConfig = z.discriminatedUnion('role', [
  internetMtaConfig,
  inboundMtaConfig,
  outboundMtaConfig,
  gatewayMtaConfig,
]);

export type MtaConfig = z.output<typeof mtaConfig>;
export type MtaRole = MtaConfig['role'];
export type MtaConfigOf<R extends MtaRole> = Extract<MtaConfig, { role: R }>;
export type MtaLimits = z.output<typeof mtaLimitsConfig>;
/** What a renderer writes for one role, before the schema's defaults are applied. */
export type MtaConfigSource<R extends MtaRole> = Extract<z.input<typeof mtaConfig>, { role: R }>;
