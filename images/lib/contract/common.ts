// The parts of the config contract every program shares. The operator renders these files into
// ConfigMaps and the programs load them with the same schemas, so the two cannot disagree.
// Durations are plain seconds and sizes plain bytes here: the operator has already parsed the
// user's "10m" and "25Mi", and a program should not need to parse them again.
import { z } from 'zod';
import { addressList } from './address-list.ts';
import { ldapUrl } from './ldap-url.ts';

export const LISTENER_PROTOCOLS = [
  'smtp',
  'submission',
  'submissions',
  'lmtp',
  'imap',
  'imaps',
  'pop3',
  'pop3s',
] as const;

export const listenerConfig = z
  .strictObject({
    name: z.string().min(1),
    protocol: z.enum(LISTENER_PROTOCOLS),
    port: z.int().min(1024).max(65535),
    /** starttls: offered after the greeting; implicit: the connection starts with a TLS handshake. */
    tls: z.enum(['none', 'starttls', 'implicit']),
    proxyProtocol: z.enum(['none', 'v1', 'v2']).default('none'),
    /**
     * The peers whose PROXY header is believed (the load balancer's addresses): a client that reaches
     * the pod directly must not be able to claim another's address. Checked by the kit's listener.
     */
    proxyProtocolFrom: addressList.optional(),
    /**
     * A connection from any other peer: refused (the default), or served as a direct client, by its
     * own address and with no header expected (pods inside the cluster that bypass the balancer).
     */
    proxyProtocolOthers: z.enum(['refuse', 'direct']).optional(),
    maxConnections: z.int().min(1).default(1000),
    maxConnectionsPerClient: z.int().min(1).default(20),
  })
  .refine(
    (l) =>
      l.proxyProtocol === 'none' ||
      (l.proxyProtocolFrom ?? []).length > 0 ||
      l.proxyProtocolOthers === 'direct',
    {
      message:
        "a listener that reads PROXY headers needs proxyProtocolFrom: the load balancer's addresses or ranges",
      path: ['proxyProtocolFrom'],
    },
  );

export const tlsFilesConfig = z.strictObject({
  certFile: z.string().min(1),
  keyFile: z.string().min(1),
});

export const directoryConfig = z.strictObject({
  urls: z.array(ldapUrl).min(1),
  baseDN: z.string().min(1),
  /** Read from files so the secret never appears in the ConfigMap or the environment. */
  bindDNFile: z.string().min(1),
  passwordFile: z.string().min(1),
  caFile: z.string().min(1).optional(),
  attributes: z.strictObject({
    mail: z.string(),
    aliases: z.string(),
    forwardTo: z.string(),
    mailHost: z.string(),
    uid: z.string(),
  }),
  cacheTTLSeconds: z.int().min(0),
  timeoutMs: z.int().min(100).default(5000),
});

/** A store's LMTP, IMAP and POP addresses, keyed by the mailHost value the directory holds. */
export const storeAddressConfig = z.strictObject({
  host: z.string().min(1),
  lmtpPort: z.int(),
  imapPort: z.int(),
  pop3Port: z.int(),
});

export const storeMapConfig = z.record(z.string(), storeAddressConfig);

export const commonConfig = z.strictObject({
  /** The name the program greets with and writes in Received: headers. */
  hostname: z.string().min(1),
  httpPort: z.int().min(1024).max(65535),
  logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  tls: tlsFilesConfig.optional(),
  /** Seconds to finish in-flight work after SIGTERM before closing what is left. */
  drainSeconds: z.int().min(0).default(25),
});

export type ListenerConfig = z.output<typeof listenerConfig>;
export type DirectoryConfig = z.output<typeof directoryConfig>;
export type StoreMapConfig = z.output<typeof storeMapConfig>;
