// Configs for unit tests: a valid MtaConfig per role, close to what the operator renders, with the
// fields a test cares about overridden. (Protocol tests of the tiers start from the renderer's own
// output instead: testing/rendered-site.ts.)
import { mtaConfig, type MtaConfig, type MtaConfigOf } from '../../lib/contract/mta.ts';

type Shared = 'role' | 'program' | 'limits' | 'queue' | 'common';
/** Any role's fields; the schema refuses those the chosen role does not have. */
type AnyRoleFields = Partial<
  Omit<MtaConfigOf<'internet'>, Shared> &
    Omit<MtaConfigOf<'inbound'>, Shared> &
    Omit<MtaConfigOf<'outbound'>, Shared> &
    Omit<MtaConfigOf<'gateway'>, Shared>
>;

export type MtaConfigInput = AnyRoleFields & {
  limits?: Partial<MtaConfig['limits']>;
  queue?: Partial<MtaConfig['queue']>;
  common?: Partial<MtaConfig['common']>;
};

const STORES = {
  'store-a': { host: 'store-a.stores.test', lmtpPort: 2424, imapPort: 1143, pop3Port: 1110 },
  'store-b': { host: 'store-b.stores.test', lmtpPort: 2424, imapPort: 1143, pop3Port: 1110 },
};

const DIRECTORY = {
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
};

const ROLE_DEFAULTS: Record<MtaConfig['role'], Record<string, unknown>> = {
  internet: { relayTo: { host: 'inbound.test', port: 25, tls: 'opportunistic' } },
  inbound: {
    stores: STORES,
    directory: DIRECTORY,
    gateway: { host: 'gateway.test', port: 25, domains: ['legacy.example.test'] },
  },
  outbound: {
    stores: STORES,
    directory: DIRECTORY,
    gateway: { host: 'gateway.test', port: 25, domains: ['legacy.example.test'] },
  },
  gateway: {
    routes: [
      { domains: ['legacy.example.test'], to: { host: 'notes.legacy.test', port: 25, tls: 'opportunistic' } },
    ],
  },
};

export function testConfig(role: MtaConfig['role'], overrides: MtaConfigInput = {}): MtaConfig {
  const { limits, queue, common, ...rest } = overrides;
  return mtaConfig.parse({
    program: 'mta',
    role,
    common: { hostname: `${role}.mta.example.test`, httpPort: 9090, ...common },
    listeners: [{ name: 'smtp', protocol: 'smtp', port: 2525, tls: 'starttls' }],
    domains: ['example.test', 'legacy.example.test'],
    ...ROLE_DEFAULTS[role],
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
