// The Messaging Multiplexor's config contract (images/mmp), one file per MMPPool.
import { z } from 'zod';
import { commonConfig, directoryConfig, listenerConfig, storeMapConfig } from './common.ts';
import {
  STORE_IMAP_BASE_CAPABILITIES,
  STORE_IMAP_SESSION_CAPABILITIES,
  STORE_POP3_CAPABILITIES,
} from './store-capabilities.ts';

/**
 * What our store offers after login: the MMP advertises these before login, since they pass through
 * its splice (docs/mmp.md, "Capabilities"). SASL-IR and ID it answers itself before login.
 */
export const STORE_IMAP_CAPABILITIES = [
  ...STORE_IMAP_BASE_CAPABILITIES.filter((capability) => capability !== 'SASL-IR' && capability !== 'ID'),
  ...STORE_IMAP_SESSION_CAPABILITIES,
];

const capabilityList = z.array(z.string().regex(/^[!-~]+( [!-~]+)*$/, 'a capability is printable ASCII'));

/**
 * The classic MMP's BadGuy settings, per client address and per account (images/lib/auth/
 * penalty-box.ts): after `freeFailures` each failed login is answered later (doubling), and
 * `maxFailures` (BGMax) within `decaySeconds` (BGDecay) lock the key out for `penaltySeconds`
 * (BGPenalty), during which its logins are refused unchecked.
 */
export const badGuyConfig = z.strictObject({
  maxFailures: z.int().min(1),
  penaltySeconds: z.int().min(1),
  decaySeconds: z.int().min(1),
  freeFailures: z.int().min(0).default(2),
});

export const mmpConfig = z.strictObject({
  program: z.literal('mmp'),
  common: commonConfig,
  listeners: z.array(listenerConfig).min(1),
  domains: z.array(z.string()).min(1),
  directory: directoryConfig,
  stores: storeMapConfig,
  proxyAuth: z.strictObject({ username: z.string().min(1), passwordFile: z.string().min(1) }),
  /** What the stores offer after login, advertised before it. */
  imapCapabilities: capabilityList.default(STORE_IMAP_CAPABILITIES),
  pop3Capabilities: capabilityList.default(STORE_POP3_CAPABILITIES),
  /** Logins without TLS. Off: RFC 8314 section 3 (LOGINDISABLED is advertised instead). */
  plaintextLogin: z.boolean().default(false),
  /** TLS from the MMP to the stores (implicit, on the store's IMAP and POP3 ports). */
  storeTls: z.strictObject({ caFile: z.string().min(1).optional() }).optional(),
  smtpProxy: z
    .strictObject({
      /**
       * The outbound MTA's submission port. The MMP proves itself there over STARTTLS, checking the
       * MTA's certificate for `host` against `caFile` (the system's CAs when absent).
       */
      outbound: z.strictObject({ host: z.string(), port: z.int(), caFile: z.string().min(1).optional() }),
      xclientSecretFile: z.string().min(1),
      popBeforeSmtpSeconds: z.int().min(0).optional(),
    })
    .optional(),
  limits: z.strictObject({
    badGuy: badGuyConfig,
    idleTimeoutSeconds: z.int().min(60),
  }),
});

export type MmpConfig = z.output<typeof mmpConfig>;
export type BadGuyConfig = z.output<typeof badGuyConfig>;
