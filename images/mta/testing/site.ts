// A small site for the protocol tests: slapd with the shared users, LMTP stores and a gateway
// played by smtp-sink, and the config overrides that point an MTA at them.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { directoryConfig, USERS } from '../../../testing/peers/directory-fixture.ts';
import { startSlapd, type Slapd } from '../../../testing/peers/slapd.ts';
import { startSmtpSink, type SmtpSink } from '../../../testing/peers/smtp-sink.ts';
import type { MtaConfigInput } from './test-config.ts';
import { startTogether } from '../../../testing/support/processes.ts';

export interface TestSite {
  slapd: Slapd;
  storeA: SmtpSink;
  storeB: SmtpSink;
  gateway: SmtpSink;
  /** Config overrides for an inbound or outbound MTA of this site. */
  overrides(dir: string): MtaConfigInput;
  stop(): Promise<void>;
}

export async function startTestSite(dir: string): Promise<TestSite> {
  mkdirSync(dir, { recursive: true });
  const [slapd, storeA, storeB, gateway] = await startTogether([
    startSlapd(join(dir, 'slapd'), USERS),
    startSmtpSink(join(dir, 'store-a'), { lmtp: true }),
    startSmtpSink(join(dir, 'store-b'), { lmtp: true }),
    startSmtpSink(join(dir, 'gateway')),
  ]);
  return {
    slapd,
    storeA,
    storeB,
    gateway,
    overrides: (mtaDir) => {
      mkdirSync(mtaDir, { recursive: true });
      return {
        directory: directoryConfig(slapd, mtaDir, { cacheTTLSeconds: 2 }),
        stores: {
          'store-a': { host: '127.0.0.1', lmtpPort: storeA.port, imapPort: 1143, pop3Port: 1110 },
          'store-b': { host: '127.0.0.1', lmtpPort: storeB.port, imapPort: 1143, pop3Port: 1110 },
        },
        gateway: { host: '127.0.0.1', port: gateway.port, domains: ['legacy.example.test'] },
      };
    },
    stop: async () => {
      await Promise.all([slapd.stop(), storeA.stop(), storeB.stop(), gateway.stop()]);
    },
  };
}
