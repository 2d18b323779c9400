// The Messaging Multiplexor's config contract (images/mmp), one file per MMPPool.
import { z } from 'zod';
import { commonConfig, directoryConfig, listenerConfig, storeMapConfig } from './common.ts';

export const mmpConfig = z.strictObject({
  program: z.literal('mmp'),
  common: commonConfig,
  listeners: z.array(listenerConfig).min(1),
  domains: z.array(z.string()).min(1),
  directory: directoryConfig,
  stores: storeMapConfig,
  proxyAuth: z.strictObject({ username: z.string().min(1), passwordFile: z.string().min(1) }),
  smtpProxy: z
    .strictObject({
      outbound: z.strictObject({ host: z.string(), port: z.int() }),
      xclientSecretFile: z.string().min(1),
      popBeforeSmtpSeconds: z.int().min(0).optional(),
    })
    .optional(),
  limits: z.strictObject({
    loginFailuresPerMinute: z.int().min(1),
    idleTimeoutSeconds: z.int().min(60),
  }),
});

export type MmpConfig = z.output<typeof mmpConfig>;
