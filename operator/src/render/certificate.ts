// With a cert-manager issuer, one Certificate covers every name a client or a neighbour tier uses:
// the published MX and client host names and each tier's Service name (internal hops use STARTTLS too).
import { tlsSecretName } from './secrets.ts';
import { topologyLabels } from './labels.ts';
import { allTiers, publishedHostnames, type Site } from './site.ts';
import { headlessServiceName } from './services.ts';

export interface Certificate {
  apiVersion: 'cert-manager.io/v1';
  kind: 'Certificate';
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: {
    secretName: string;
    dnsNames: string[];
    issuerRef: { name: string; kind: string; group: string };
    privateKey: { algorithm: 'ECDSA'; size: number; rotationPolicy: 'Always' };
    usages: string[];
  };
}

export function certificateDnsNames(site: Site): string[] {
  const { mx, clients } = publishedHostnames(site);
  const suffix = `${site.namespace}.svc.${site.topology.spec.network.clusterDomain}`;
  const names = new Set<string>([mx, clients]);
  for (const tier of allTiers(site)) names.add(`${tier.name}.${suffix}`);
  names.add(`*.${headlessServiceName(site.store)}.${suffix}`);
  return [...names];
}

export function renderCertificate(site: Site): Certificate | undefined {
  const issuer = site.topology.spec.tls.issuerRef;
  if (!issuer) return undefined;
  return {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: { name: tlsSecretName(site), namespace: site.namespace, labels: topologyLabels(site) },
    spec: {
      secretName: tlsSecretName(site),
      dnsNames: certificateDnsNames(site),
      issuerRef: { name: issuer.name, kind: issuer.kind, group: issuer.group },
      privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
      usages: ['server auth', 'client auth'],
    },
  };
}
