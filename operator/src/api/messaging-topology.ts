// MessagingTopology: the site. Hosted domains, the directory, the store pool, the network zones the
// firewall is drawn from, TLS, and the host names to publish in DNS.
import { z } from 'zod';
import {
  byteQuantity,
  cidrList,
  conditions,
  domainName,
  dnsLabel,
  duration,
  image,
  listMapKeyedBy,
  listSet,
  localObjectRef,
  objectMeta,
  isByteQuantity,
  parseByteQuantity,
  resources,
  storage,
} from './common.ts';
import { ldapUrl } from '../../../images/lib/contract/ldap-url.ts';
import { withRules } from './rules.ts';

export const CLIENT_PROTOCOLS = ['imap', 'imaps', 'pop3', 'pop3s', 'submission', 'submissions'] as const;
export const clientProtocol = z.enum(CLIENT_PROTOCOLS);

// Label syntax is checked here and by the operator, not by the CRD (as Kubernetes checks selectors
// in code, not in its OpenAPI schema): a bad key reaches the operator and is reported as InvalidSpec.
const labelKey = z
  .string()
  .max(317)
  .regex(
    /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/,
    'must be a label key such as "dept" or "example.com/dept"',
  );
const labelValue = z
  .string()
  .max(63)
  .regex(
    /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/,
    'must be a label value: letters, digits, "-", "_" and "."',
  );

const matchLabels = z
  .record(labelKey, labelValue)
  .optional()
  .describe('Labels a namespace must carry, all of them, to be selected.');

const directoryAttributes = z
  .strictObject({
    mail: z
      .string()
      .max(64)
      .default('mail')
      .describe('Attribute holding the primary address. Default "mail".'),
    aliases: z
      .string()
      .max(64)
      .default('mailAlternateAddress')
      .describe('Attribute holding alias addresses. Default "mailAlternateAddress".'),
    forwardTo: z
      .string()
      .max(64)
      .default('mailForwardingAddress')
      .describe('Attribute holding forwarding addresses. Default "mailForwardingAddress".'),
    mailHost: z
      .string()
      .max(64)
      .default('mailHost')
      .describe('Attribute naming the store that holds the user\'s mailbox. Default "mailHost".'),
    uid: z.string().max(64).default('uid').describe('Attribute holding the login name. Default "uid".'),
  })
  .describe('Names of the directory attributes the mail system reads.');

const directory = z
  .strictObject({
    urls: z
      .array(ldapUrl)
      .min(1)
      .max(8)
      .describe('LDAP servers, tried in order: "ldaps://ldap-1.corp.example".'),
    baseDN: z.string().min(1).max(1024).describe('Where users are searched: "o=siroe.example".'),
    bindSecretRef: localObjectRef
      .extend({
        bindDNKey: z
          .string()
          .max(253)
          .default('bindDN')
          .describe('Key holding the bind DN. Default "bindDN".'),
        passwordKey: z
          .string()
          .max(253)
          .default('password')
          .describe('Key holding the bind password. Default "password".'),
      })
      .describe('Secret with the DN and password the mail programs bind with (read-only access suffices).'),
    attributes: directoryAttributes.prefault({}),
    cacheTTL: duration.default('60s').describe('How long a lookup result is reused. Default "60s".'),
    cidrs: cidrList(
      'Where the directory servers are, for the firewall: only tiers that need them may reach these.',
    ).min(1),
    caSecretRef: localObjectRef
      .optional()
      .describe('Secret whose "ca.crt" verifies the directory\'s certificate; the system roots when unset.'),
  })
  .describe('The LDAP directory that says which addresses are hosted and where each mailbox lives.');

const clientZone = withRules(
  z
    .strictObject({
      name: dnsLabel.describe('Name of the zone, used in policy names and diagrams.'),
      cidrs: cidrList('Client addresses outside the cluster that belong to this zone.').optional(),
      namespaceSelector: z
        .strictObject({ matchLabels })
        .optional()
        .describe('Namespaces in the cluster whose pods belong to this zone.'),
      allow: z
        .array(clientProtocol)
        .max(6)
        .default([...CLIENT_PROTOCOLS])
        .describe('What this zone may use: imap, imaps, pop3, pop3s, submission, submissions. Default all.'),
    })
    .describe('A group of mail clients, by address or by namespace, and what they may use.'),
  [
    {
      cel: 'has(self.cidrs) || has(self.namespaceSelector)',
      path: [],
      message: 'a client zone needs "cidrs", "namespaceSelector" or both, to say who is in it',
      holds: (zone) => zone.cidrs !== undefined || zone.namespaceSelector !== undefined,
    },
  ],
);

const legacySystem = z
  .strictObject({
    name: dnsLabel.describe('Name of the legacy system.'),
    cidrs: cidrList('Addresses of the legacy system. Only the gateway tier may reach them.').min(1),
    ports: z
      .array(z.int().min(1).max(65535))
      .min(1)
      .max(8)
      .default([25])
      .describe('SMTP ports the gateway connects to. Default [25].'),
  })
  .describe('A mail system users are migrating from, reached only through the gateway MTA.');

const network = z
  .strictObject({
    internetCIDRs: cidrList(
      'What counts as the internet. Default everything; the cluster, directory, legacy and client-zone ranges are always cut out.',
    ).default(['0.0.0.0/0', '::/0']),
    clusterCIDRs: cidrList(
      'Pod and Service ranges of the cluster, cut out of the internet ranges so that "the internet" never means another pod.',
    ).default([]),
    clusterDomain: domainName
      .default('cluster.local')
      .describe('DNS domain of the cluster, for the stores\' stable host names. Default "cluster.local".'),
    clientZones: z
      .array(clientZone)
      .max(32)
      .meta(listMapKeyedBy('name'))
      .default([])
      .describe('Where mail clients are. Only these reach the MMP pool and submission.'),
    legacySystems: z
      .array(legacySystem)
      .max(32)
      .meta(listMapKeyedBy('name'))
      .default([])
      .describe('Legacy mail systems behind the gateway.'),
    dns: z
      .strictObject({
        namespace: z
          .string()
          .max(63)
          .default('kube-system')
          .describe('Namespace of the cluster DNS. Default "kube-system".'),
        podLabels: z
          .record(z.string().max(317), z.string().max(63))
          .default({ 'k8s-app': 'kube-dns' })
          .describe('Labels of the cluster DNS pods. Default k8s-app=kube-dns.'),
      })
      .prefault({})
      .describe('The cluster DNS, the one server every pod may reach.'),
    monitoringNamespaceSelector: z
      .strictObject({ matchLabels })
      .optional()
      .describe('Namespaces allowed to scrape the metrics port. Nobody when unset.'),
  })
  .describe('The network zones the firewall is drawn from.');

const tls = withRules(
  z
    .strictObject({
      secretRef: localObjectRef
        .optional()
        .describe('A kubernetes.io/tls Secret with the certificate every tier presents.'),
      issuerRef: z
        .strictObject({
          name: dnsLabel.describe('Name of the issuer.'),
          kind: z.enum(['Issuer', 'ClusterIssuer']).default('Issuer').describe('Issuer or ClusterIssuer.'),
          group: z.string().max(253).default('cert-manager.io').describe('API group of the issuer.'),
        })
        .optional()
        .describe('A cert-manager issuer; a Certificate for the published host names is created.'),
    })
    .describe('The certificate for STARTTLS and implicit TLS on every port that offers TLS.'),
  [
    {
      cel: 'has(self.secretRef) != has(self.issuerRef)',
      path: [],
      message: 'tls needs exactly one of "secretRef" (an existing Secret) or "issuerRef" (cert-manager)',
      holds: (t) => (t.secretRef !== undefined) !== (t.issuerRef !== undefined),
    },
  ],
);

const stores = z
  .strictObject({
    replicas: z
      .int()
      .min(1)
      .max(64)
      .default(1)
      .describe('Number of message stores. Each is one mailHost; users are placed on one in the directory.'),
    storage: storage('10Gi').prefault({}),
    resources: resources.optional(),
    image: image.optional(),
    quota: z
      .strictObject({
        storage: byteQuantity
          // zod runs this after a failed pattern too: what is no quantity is the pattern's to report.
          .refine(
            (size) => !isByteQuantity(size) || parseByteQuantity(size) >= 1,
            'must be at least 1 byte, such as "2Gi"',
          )
          .meta({
            'x-kubernetes-validations': [
              {
                rule: "quantity(self).compareTo(quantity('1')) >= 0",
                message: 'must be at least 1 byte, such as "2Gi"',
              },
            ],
          })
          .optional()
          .describe('The mail each user may keep, in bytes with a suffix: "2Gi". No limit when unset.'),
        messages: z
          .int()
          .min(1)
          .max(1_000_000_000)
          .optional()
          .describe('The number of messages each user may keep. No limit when unset.'),
      })
      .optional()
      .describe(
        "Each user's mailbox quota (RFC 9208: STORAGE and MESSAGE), the same for every user of the site. " +
          'Over it, delivery is deferred (LMTP 452 4.2.2: the sending MTA keeps the mail and retries) ' +
          'and IMAP APPEND fails with NO [OVERQUOTA]. No quota when unset.',
      ),
  })
  .describe('The message stores: mailboxes on persistent volumes, LMTP in, IMAP and POP out.');

export const messagingTopologySpec = withRules(
  z
    .strictObject({
      domains: z
        .array(domainName)
        .min(1)
        .max(64)
        .meta(listSet)
        .describe('Mail domains this site hosts. Mail for any other domain is refused from the internet.'),
      directory,
      stores: stores.prefault({}),
      network: network.prefault({}),
      tls,
      publish: z
        .strictObject({
          mxHostname: domainName
            .optional()
            .describe(
              'Host name of the MX record, pointing at the internet-facing MTAs. Default "mx.<first domain>".',
            ),
          clientHostname: domainName
            .optional()
            .describe('Host name clients use for IMAP, POP and submission. Default "mail.<first domain>".'),
        })
        .prefault({})
        .describe('Host names to publish in DNS; status.dnsRecords lists the records.'),
      images: z
        .strictObject({
          mta: image.optional(),
          store: image.optional(),
          mmp: image.optional(),
          pullPolicy: z
            .enum(['Always', 'IfNotPresent', 'Never'])
            .default('IfNotPresent')
            .describe('Image pull policy.'),
        })
        .prefault({})
        .describe('Images of the programs; the release defaults when unset.'),
    })
    .describe('A messaging site: its domains, directory, stores, network zones and TLS.'),
  [
    {
      cel: 'self.domains.all(d, self.domains.exists_one(e, e == d))',
      path: ['domains'],
      message: 'domains must not repeat',
      holds: (s) => new Set(s.domains).size === s.domains.length,
    },
    {
      cel: 'self.network.clientZones.all(z, self.network.clientZones.exists_one(y, y.name == z.name))',
      path: ['network', 'clientZones'],
      message: 'client zone names must be unique',
      holds: (s) => new Set(s.network.clientZones.map((z) => z.name)).size === s.network.clientZones.length,
    },
    {
      cel: 'self.network.legacySystems.all(l, self.network.legacySystems.exists_one(y, y.name == l.name))',
      path: ['network', 'legacySystems'],
      message: 'legacy system names must be unique',
      holds: (s) =>
        new Set(s.network.legacySystems.map((l) => l.name)).size === s.network.legacySystems.length,
    },
  ],
);

export const tierStatus = z.strictObject({
  name: z.string().describe('The tier: stores, or the name of an MTARelay or MMPPool.'),
  kind: z.string().describe('MessagingTopology (stores), MTARelay or MMPPool.'),
  role: z.string().describe('store, internet, inbound, outbound, gateway or mmp.'),
  replicas: z.int().describe('Desired replicas.'),
  readyReplicas: z.int().describe('Replicas ready to serve.'),
});

export const endpointStatus = z.strictObject({
  name: z.string().describe('What the endpoint serves: mx, clients, submission.'),
  address: z.string().describe('Load balancer address or in-cluster Service name.'),
  ports: z.array(z.int()).describe('Ports served there.'),
});

export const dnsRecordStatus = z.strictObject({
  type: z.enum(['MX', 'A', 'AAAA', 'CNAME']).describe('Record type.'),
  name: z.string().describe('Owner name.'),
  value: z.string().describe('Record data.'),
  priority: z.int().optional().describe('MX preference.'),
});

export const mailHostStatus = z.strictObject({
  name: z.string().describe('The store\'s pod name, e.g. "siroe-store-0": a mailHost value.'),
  host: z.string().describe('Its stable DNS name, the other mailHost value it answers to.'),
});

export const messagingTopologyStatus = z
  .strictObject({
    observedGeneration: z.int().optional().describe('The .metadata.generation last acted on.'),
    conditions: conditions.optional(),
    tiers: z.array(tierStatus).max(128).optional().describe('Ready replicas per tier.'),
    ready: z.string().optional().describe('Ready tiers over all tiers, e.g. "5/6" (for kubectl get).'),
    domains: z
      .string()
      .optional()
      .describe(
        'The hosted domains, comma-separated as kubectl prints a list, e.g. "a.example,b.example" (for kubectl get: a column over spec.domains would print a JSON array, or only the first).',
      ),
    endpoints: z.array(endpointStatus).max(16).optional().describe('Where the site is reached.'),
    mailHosts: z
      .array(mailHostStatus)
      .max(64)
      .optional()
      .describe(
        "The stores a user's directory entry may name in its mailHost attribute, by pod name or DNS name; a hosted user whose mailHost names none of them is routed to the legacy system.",
      ),
    dnsRecords: z
      .array(dnsRecordStatus)
      .max(256)
      .optional()
      .describe('DNS records to publish: the MX points at the internet-facing MTAs, never at an MMP.'),
  })
  .describe('What the operator observed.');

export const messagingTopology = z.strictObject({
  apiVersion: z.literal('mtopo.dev/v1alpha1'),
  kind: z.literal('MessagingTopology'),
  metadata: objectMeta,
  spec: messagingTopologySpec,
  status: messagingTopologyStatus.optional(),
});

export type MessagingTopology = z.output<typeof messagingTopology>;
export type MessagingTopologySpec = z.output<typeof messagingTopologySpec>;
export type ClientZone = MessagingTopologySpec['network']['clientZones'][number];
export type ClientProtocol = z.output<typeof clientProtocol>;
