// The message store's config contract (images/store), shared by every replica of the store pool.
// Each replica learns which mailHost it is from its pod name at start.
import { z } from 'zod';
import { commonConfig, listenerConfig } from './common.ts';

export const storeConfig = z.strictObject({
  program: z.literal('store'),
  common: commonConfig,
  listeners: z.array(listenerConfig).min(1),
  domains: z.array(z.string()).min(1),
  dataDir: z.string().min(1),
  /**
   * The MMP logs in on a user's behalf with SASL PLAIN, authzid = the user and authcid = "mmp", and
   * this shared secret as password (the multiplexor has already checked the user's own password
   * against the directory), so the store needs no directory access of its own.
   */
  proxyAuth: z.strictObject({ username: z.string().min(1), passwordFile: z.string().min(1) }),
  maxMessageBytes: z.int().min(1),
  /**
   * Each account's quota (RFC 9208: one root per user, STORAGE and MESSAGE). No limit where a value
   * is absent. Over it, LMTP answers 452 4.2.2 and APPEND NO [OVERQUOTA].
   */
  quota: z
    .strictObject({ storageBytes: z.int().min(1).optional(), messages: z.int().min(1).optional() })
    .optional(),
});

export type StoreConfig = z.output<typeof storeConfig>;
