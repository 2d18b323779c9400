// Schema pieces shared by the three kinds. Every field carries a description: the CRD generator
// copies it into the OpenAPI schema, so `kubectl explain` and docs/api.md read the same words.
import { z } from 'zod';
import { parseCidr } from '../../../images/lib/contract/cidr.ts';
import { withRules } from './rules.ts';

export const GROUP = 'mtopo.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** A Kubernetes object name (RFC 1123 label), the form Services and StatefulSets require. */
export const dnsLabel = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be lower-case letters, digits and "-" (RFC 1123 label)');

/** A DNS name such as a mail domain or a host name. Trailing dots are refused: they only confuse routing. */
export const domainName = z
  .string()
  .min(1)
  .max(253)
  .regex(
    /^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    'must be a lower-case DNS name such as "siroe.example", without a trailing dot',
  );

/**
 * A range with its prefix ("10.0.0.0/8"), as the programs' one CIDR module reads it. A bare address
 * is refused here, as the API server's isCIDR() refuses it: a wall's peer is always written as a range.
 */
const isCidrRange = (value: string) => value.includes('/') && parseCidr(value) !== undefined;

export const cidr = z
  .string()
  .max(64)
  .refine(isCidrRange, { message: 'must be a CIDR such as "10.0.0.0/8" or "2001:db8::/32"' })
  .meta({
    'x-kubernetes-validations': [{ rule: 'isCIDR(self)', message: 'must be a CIDR such as "10.0.0.0/8"' }],
  });

export const cidrList = (what: string) => z.array(cidr).max(64).describe(what);

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_PATTERN = /^([0-9]+(ms|s|m|h|d))+$/;

/** A duration written as Go and Kubernetes users write them: "90s", "10m", "1h30m", "5d". */
export const duration = z
  .string()
  .max(32)
  .regex(DURATION_PATTERN, 'must be a duration such as "30s", "10m", "1h30m" or "5d"');

export function parseDurationMs(value: string): number {
  if (!DURATION_PATTERN.test(value)) throw new Error(`not a duration: ${JSON.stringify(value)}`);
  let total = 0;
  for (const [, amount, unit] of value.matchAll(/([0-9]+)(ms|s|m|h|d)/g)) {
    total += Number(amount) * (DURATION_UNITS_MS[unit as string] ?? 0);
  }
  return total;
}

const QUANTITY_PATTERN = /^([0-9]+)(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;
const QUANTITY_FACTORS: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A byte size as a Kubernetes quantity: "25Mi", "10Gi", "500k". */
export const byteQuantity = z
  .string()
  .max(32)
  .regex(QUANTITY_PATTERN, 'must be a size such as "25Mi", "10Gi" or "1000000"');

export const isByteQuantity = (value: string) => QUANTITY_PATTERN.test(value);

export function parseByteQuantity(value: string): number {
  const match = QUANTITY_PATTERN.exec(value);
  if (!match) throw new Error(`not a quantity: ${JSON.stringify(value)}`);
  const [, whole, fraction = '', suffix = ''] = match;
  return Math.floor(Number(`${whole}${fraction}`) * (QUANTITY_FACTORS[suffix] ?? 1));
}

/** CPU and memory as Kubernetes writes them ("250m", "512Mi"); checked in full by the API server. */
const resourceQuantity = z
  .string()
  .max(32)
  .regex(/^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/, 'must be a quantity such as "250m" or "512Mi"');

const cpuAndMemory = z.strictObject({
  cpu: resourceQuantity.optional().describe('CPU, in cores or millicores: "2", "250m".'),
  memory: resourceQuantity.optional().describe('Memory, in bytes with a suffix: "512Mi", "2Gi".'),
});

export const resources = z
  .strictObject({
    requests: cpuAndMemory.optional().describe('Minimum CPU and memory reserved for each replica.'),
    limits: cpuAndMemory.optional().describe('Maximum CPU and memory each replica may use.'),
  })
  .describe('CPU and memory for each replica, as in a container\'s "resources".');

export const localObjectRef = z
  .strictObject({ name: dnsLabel.describe('Name of the object, in the same namespace.') })
  .describe('A reference to an object in the same namespace.');

export const storage = (defaultSize: string) =>
  z
    .strictObject({
      size: byteQuantity
        .default(defaultSize)
        .describe(`Size of each replica's volume. Default "${defaultSize}".`),
      storageClassName: z
        .string()
        .max(253)
        .optional()
        .describe("StorageClass for the volume claims; the cluster's default class when unset."),
    })
    .describe('A persistent volume for each replica, claimed through the StatefulSet.');

export const image = z
  .string()
  .max(512)
  .regex(/^[^\s]+$/, 'must be an image reference without spaces')
  .describe(
    "Container image; when unset, the operator's default for the program (its --default-image-* flags, set by the chart from its release).",
  );

export const serviceType = z
  .enum(['ClusterIP', 'LoadBalancer', 'NodePort'])
  .describe('Kubernetes Service type.');

export const proxyProtocol = z
  .enum(['none', 'v1', 'v2'])
  .describe(
    'PROXY protocol expected from the load balancer, so the programs see the client\'s real address. "none" when the load balancer does not send it.',
  );

/**
 * How a tier is exposed, the same for every kind with a Service (MTARelay, MMPPool). The PROXY
 * senders' rule lives here with the field, so each kind gets the field and its check together.
 */
export const service = (defaults: { type: string }) =>
  withRules(
    z.strictObject({
      type: serviceType
        .optional()
        .describe(`Kubernetes Service type. Default for this kind: ${defaults.type}.`),
      loadBalancerSourceRanges: cidrList(
        'Client ranges the load balancer admits (Service.spec.loadBalancerSourceRanges). Empty admits all.',
      ).optional(),
      loadBalancerClass: z.string().max(253).optional().describe('Load balancer implementation to use.'),
      externalTrafficPolicy: z
        .enum(['Local', 'Cluster'])
        .optional()
        .describe(
          '"Local" keeps the client\'s source address (default for load balancers); "Cluster" spreads load.',
        ),
      proxyProtocol: proxyProtocol.default('none'),
      proxyProtocolFrom: cidrList(
        'The load balancers allowed to send a PROXY header (their addresses as the pods see them). ' +
          "A header from any other peer is refused, so no client can claim another's address. " +
          "Default: the topology's network.clusterCIDRs, or the private ranges when it names none.",
      )
        .min(1)
        .optional(),
      annotations: z
        .record(z.string().max(253), z.string().max(4096))
        .optional()
        .describe("Annotations for the Service, such as a cloud load balancer's settings."),
    }),
    [
      {
        cel: "!has(self.proxyProtocolFrom) || self.proxyProtocol != 'none'",
        path: ['proxyProtocolFrom'],
        message: 'proxyProtocolFrom needs service.proxyProtocol "v1" or "v2"',
        holds: (s) => s.proxyProtocolFrom === undefined || s.proxyProtocol !== 'none',
      },
    ],
  ).describe('How the tier is exposed.');

export const conditionStatus = z.enum(['True', 'False', 'Unknown']);

export const condition = z.strictObject({
  type: z.string().max(316).describe('Ready, Progressing, Degraded or Stalled.'),
  status: conditionStatus.describe('True, False or Unknown.'),
  reason: z.string().max(1024).describe('A CamelCase word a program can match on.'),
  message: z.string().max(32768).describe('What is wrong and how to fix it, for a person.'),
  observedGeneration: z
    .int()
    .min(0)
    .optional()
    .describe('The .metadata.generation this condition describes.'),
  lastTransitionTime: z.string().describe('When the status last changed (RFC 3339).'),
});

/**
 * Marks a list of objects as a map keyed by the given fields (x-kubernetes-list-type: map): the API
 * server refuses two items with the same key, and server-side apply merges items by key instead of
 * replacing the whole list. Every key field must be required or defaulted.
 */
export const listMapKeyedBy = (...keys: [string, ...string[]]) => ({
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': keys,
});

/** Marks a list of scalars as a set (x-kubernetes-list-type: set): the API server refuses duplicates. */
export const listSet = { 'x-kubernetes-list-type': 'set' };

export const conditions = z
  .array(condition)
  .max(8)
  .meta(listMapKeyedBy('type'))
  .describe(
    'Ready, Progressing, Degraded and Stalled, with observedGeneration, as `kubectl wait --for=condition=Ready` and kstatus (Flux) expect.',
  );

export const objectMeta = z
  .object({
    name: dnsLabel.max(40, 'must be at most 40 characters: child objects add suffixes to it'),
    namespace: z.string().optional(),
    generation: z.int().optional(),
    uid: z.string().optional(),
    resourceVersion: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  })
  .loose();

/** The status of a tier's own resource (MTARelay, MMPPool); the words differ, the shape does not. */
export const tierResourceStatus = (words: { readyReplicas: string; endpoint: string; example: string }) =>
  z
    .strictObject({
      observedGeneration: z.int().optional().describe('The .metadata.generation last acted on.'),
      conditions: conditions.optional(),
      replicas: z.int().optional().describe('Desired replicas.'),
      readyReplicas: z.int().optional().describe(words.readyReplicas),
      ready: z
        .string()
        .optional()
        .describe(`Ready over desired replicas, e.g. "${words.example}" (for kubectl get).`),
      endpoint: z.string().optional().describe(words.endpoint),
    })
    .describe('What the operator observed.');

export type Condition = z.infer<typeof condition>;
