// Configs for tests: a valid MtaConfig per role, close to what the operator renders, with the
// fields a test cares about overridden.
import { mtaConfig, type MtaConfig } from '../../lib/config/mta.ts';

export type MtaConfigInput = Omit<Partial<MtaConfig>, 'limits' | 'queue' | 'common'> & {
  limits?: Partial<MtaConfig['limits']>;
  queue?: Partial<MtaConfig['queue']>;
  common?: Partial<MtaConfig['common']>;
};

export function testConfig(role: MtaConfig['role'], overrides: MtaConfigInput = {}): MtaConfig {
  const { limits, queue, common, ...rest } = overrides;
  return mtaConfig.parse({
    program: 'mta',
    role,
    common: { hostname: `${role}.mta.example.test`, httpPort: 9090, ...common },
    listeners: [{ name: 'smtp', protocol: 'smtp', port: 2525, tls: 'starttls' }],
    domains: ['example.test', 'legacy.example.test'],
    stores: {
      'store-a': { host: 'store-a.stores.test', lmtpPort: 2424, imapPort: 1143, pop3Port: 1110 },
      'store-b': { host: 'store-b.stores.test', lmtpPort: 2424, imapPort: 1143, pop3Port: 1110 },
    },
    ...(role === 'internet'
      ? { relayTo: { host: 'inbound.test', port: 25, tls: 'opportunistic' }, stores: {} }
      : {}),
    ...(role === 'inbound' || role === 'outbound'
      ? {
          directory: {
            urls: ['ldap://127.0.0.1:389'],
            baseDN: 'dc=example,dc=test',
            bindDNFile: '/dev/null',
            passwordFile: '/dev/null',
            attributes: {
              mail: 'mail',
              aliases: 'mailAlternateAddress',
              forwardTo: 'mailForwardingAddress',
              mailHost: 'mailHost',
              uid: 'uid',
            },
            cacheTTLSeconds: 60,
          },
          gateway: { host: 'gateway.test', port: 25, domains: ['legacy.example.test'] },
        }
      : {}),
    ...(role === 'gateway'
      ? {
          stores: {},
          routes: [
            {
              domains: ['legacy.example.test'],
              to: { host: 'notes.legacy.test', port: 25, tls: 'opportunistic' },
            },
          ],
        }
      : {}),
    limits: {
      maxMessageBytes: 10 * 1024 * 1024,
      maxRecipients: 50,
      messagesPerMinutePerClient: 600,
      deliveryConcurrency: 4,
      ...limits,
    },
    queue: {
      dir: '/nonexistent',
      lifetimeSeconds: 3600,
      retryInitialSeconds: 60,
      retryMaxSeconds: 600,
      ...queue,
    },
    ...rest,
  });
}
