// Kubeconfig files for the test control plane: one cluster, one bearer-token user, one context.
// Written as JSON (a subset of YAML) so kubectl, client-go and @kubernetes/client-node all read it.
import { writeFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';

export interface BearerTokenIdentity {
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** PEM bundle that verifies the apiserver's serving certificate. */
  readonly certificateAuthorityPath: string;
  readonly userName: string;
  readonly token: string;
  /** The context's default namespace. */
  readonly namespace?: string;
}

export function kubeconfigDocument(identity: BearerTokenIdentity): object {
  const clusterName = 'mtopo-test';
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: clusterName,
        cluster: { server: identity.server, 'certificate-authority': identity.certificateAuthorityPath },
      },
    ],
    users: [{ name: identity.userName, user: { token: identity.token } }],
    contexts: [
      {
        name: identity.userName,
        context: {
          cluster: clusterName,
          user: identity.userName,
          ...(identity.namespace === undefined ? {} : { namespace: identity.namespace }),
        },
      },
    ],
    'current-context': identity.userName,
    preferences: {},
  };
}

export function writeKubeconfig(filePath: string, identity: BearerTokenIdentity): void {
  // Holds a credential: owner-only, like kubectl writes its own.
  writeFileSync(filePath, JSON.stringify(kubeconfigDocument(identity), null, 2) + '\n', { mode: 0o600 });
}

export function loadKubeConfig(filePath: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(filePath);
  return kubeConfig;
}
