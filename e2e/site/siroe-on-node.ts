// examples/siroe.yaml as the end-to-end suite deploys it: the same tiers, replicas, zones and flows,
// adapted only where a test node differs from the corporate network the example describes — its
// addresses (the cluster's own ranges, the directory and the legacy system by address, since no
// corporate DNS answers here), its directory (the test directory's base DN, and the CA that signed
// its certificate, since no public CA vouches for 10.20.0.5), its certificate (a Secret made by the
// suite, as there is no cert-manager) and the stores' CPU reservation (three stores asking half a core each do not fit on
// a 2-core node beside ten other pods).
import { readFileSync } from 'node:fs';
import { loadAll } from 'js-yaml';

export interface NodeAddresses {
  /** The cluster's pod and Service ranges (network.clusterCIDRs). */
  readonly clusterCIDRs: readonly string[];
  /** The directory servers' addresses, in the example's order (ldap-1, ldap-2). */
  readonly directory: readonly string[];
  /** The legacy system "notes" (one address, as in the example). */
  readonly legacyNotes: string;
  /** The Secret (kubernetes.io/tls) every tier presents. */
  readonly tlsSecretName: string;
  /** The Secret with the directory bind credentials. */
  readonly bindSecretName: string;
  /** The test directory's suffix (the example's o=siroe.example is a corporate tree). */
  readonly directoryBaseDN: string;
  /** The Secret whose ca.crt signed the directory's certificate. */
  readonly directoryCaSecretName: string;
}

type Doc = { kind: string; metadata: { name: string }; spec: Record<string, unknown> };

export const SIROE_EXAMPLE = new URL('../../examples/siroe.yaml', import.meta.url);

/** The example's documents, adapted; each change is one that a test node forces. */
export function siroeOnNode(addresses: NodeAddresses, source = readFileSync(SIROE_EXAMPLE, 'utf8')): Doc[] {
  const docs = loadAll(source) as Doc[];
  for (const doc of docs) {
    if (doc.kind === 'MessagingTopology') {
      const spec = doc.spec as {
        directory: {
          urls: string[];
          cidrs: string[];
          baseDN: string;
          bindSecretRef: { name: string };
          caSecretRef?: { name: string };
        };
        network: { clusterCIDRs: string[]; legacySystems: { name: string; cidrs: string[] }[] };
        tls: Record<string, unknown>;
        stores: { resources?: { requests?: { cpu?: string } } };
      };
      const ldapUrls = spec.directory.urls;
      if (ldapUrls.length !== addresses.directory.length) {
        throw new Error(
          `the example names ${ldapUrls.length} directory servers, the node has ${addresses.directory.length}`,
        );
      }
      spec.directory.urls = ldapUrls.map((url, i) =>
        url.replace(/^(ldaps?:\/\/)[^:/]+/, `$1${addresses.directory[i]}`),
      );
      spec.directory.bindSecretRef = { name: addresses.bindSecretName };
      spec.directory.baseDN = addresses.directoryBaseDN;
      spec.directory.caSecretRef = { name: addresses.directoryCaSecretName };
      spec.network.clusterCIDRs = [...addresses.clusterCIDRs];
      for (const system of spec.network.legacySystems) {
        if (system.name === 'notes') system.cidrs = [`${addresses.legacyNotes}/32`];
      }
      spec.tls = { secretRef: { name: addresses.tlsSecretName } };
      if (spec.stores.resources?.requests?.cpu) spec.stores.resources.requests.cpu = '100m';
    }
    if (doc.kind === 'MTARelay' && doc.spec['role'] === 'gateway') {
      const routes = doc.spec['routes'] as { to: { host: string } }[];
      for (const route of routes)
        if (route.to.host === 'notes.corp.example') route.to.host = addresses.legacyNotes;
    }
  }
  return docs;
}
