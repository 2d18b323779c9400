// A client that has exactly the permissions of one RBAC role: a ServiceAccount bound to the role,
// authenticated with a token from the TokenRequest API — the way the operator itself will
// authenticate in a cluster. Tests use it to prove a role grants what the operator needs, and no more.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import {
  AuthorizationV1Api,
  CoreV1Api,
  RbacAuthorizationV1Api,
  type KubeConfig,
  type V1PolicyRule,
} from '@kubernetes/client-node';
import { loadKubeConfig, writeKubeconfig } from './kubeconfig.ts';
import { clusterScratchDir, testKubeConfig } from './test-env.ts';
import { waitFor } from '../support/wait.ts';

export interface RoleClientOptions {
  /** Where the ServiceAccount (and a RoleBinding, Role) live. */
  readonly namespace: string;
  /** Bind this existing role… */
  readonly role?: { readonly kind: 'Role' | 'ClusterRole'; readonly name: string };
  /** …or make a role with exactly these rules (a Role, or a ClusterRole if clusterWide). */
  readonly rules?: readonly V1PolicyRule[];
  /** Bind with a ClusterRoleBinding (all namespaces) instead of a RoleBinding in `namespace`. */
  readonly clusterWide?: boolean;
  /** The ServiceAccount's name; also names the role and binding made here. */
  readonly name?: string;
}

export interface RoleClient {
  readonly kubeConfig: KubeConfig;
  /** For kubectl: `kubectl(['--kubeconfig', client.kubeconfigPath, …])`. */
  readonly kubeconfigPath: string;
  /** system:serviceaccount:<namespace>:<name> */
  readonly userName: string;
  readonly serviceAccountName: string;
  readonly token: string;
}

const TOKEN_LIFETIME_SECONDS = 3600;

/**
 * Makes the ServiceAccount, role and binding, waits until the authorizer has seen the binding, and
 * returns a client authenticated as that ServiceAccount. Cluster-scoped objects made here
 * (ClusterRole, ClusterRoleBinding) are deleted when the test ends; the rest goes with the namespace.
 */
export async function clientWithRole(
  t: TestContext,
  options: RoleClientOptions,
  adminKubeConfig: KubeConfig = testKubeConfig(),
): Promise<RoleClient> {
  const { namespace, clusterWide = false } = options;
  const name = options.name ?? `role-client-${Math.random().toString(36).slice(2, 8)}`;
  if ((options.role === undefined) === (options.rules === undefined)) {
    throw new Error('clientWithRole: give exactly one of `role` and `rules`');
  }
  const core = adminKubeConfig.makeApiClient(CoreV1Api);
  const rbac = adminKubeConfig.makeApiClient(RbacAuthorizationV1Api);

  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });

  let roleRef = options.role;
  let rules = options.rules;
  if (rules !== undefined) {
    const body = { metadata: { name }, rules: [...rules] };
    if (clusterWide) {
      await rbac.createClusterRole({ body });
      t.after(async () => {
        await rbac.deleteClusterRole({ name });
      });
      roleRef = { kind: 'ClusterRole', name };
    } else {
      await rbac.createNamespacedRole({ namespace, body });
      roleRef = { kind: 'Role', name };
    }
  } else if (roleRef !== undefined) {
    const role =
      roleRef.kind === 'ClusterRole'
        ? await rbac.readClusterRole({ name: roleRef.name })
        : await rbac.readNamespacedRole({ name: roleRef.name, namespace });
    rules = role.rules ?? [];
  }
  if (roleRef === undefined || rules === undefined) throw new Error('unreachable: role or rules is set');

  const binding = {
    metadata: { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleRef.kind, name: roleRef.name },
    subjects: [{ kind: 'ServiceAccount', name, namespace }],
  };
  if (clusterWide) {
    await rbac.createClusterRoleBinding({ body: binding });
    t.after(async () => {
      await rbac.deleteClusterRoleBinding({ name });
    });
  } else {
    await rbac.createNamespacedRoleBinding({ namespace, body: binding });
  }

  const userName = `system:serviceaccount:${namespace}:${name}`;
  await waitForBindingToTakeEffect(adminKubeConfig, userName, namespace, rules);

  const tokenRequest = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { expirationSeconds: TOKEN_LIFETIME_SECONDS } },
  });
  const token = tokenRequest.status?.token;
  if (token === undefined) throw new Error(`no token in the TokenRequest answer for ${userName}`);

  const cluster = adminKubeConfig.getCurrentCluster();
  if (cluster === null || cluster.caFile === undefined) {
    throw new Error('the admin kubeconfig has no cluster with a certificate-authority file');
  }
  const clientsDir = path.join(clusterScratchDir(), 'clients');
  mkdirSync(clientsDir, { recursive: true });
  const kubeconfigPath = path.join(clientsDir, `${namespace}.${name}.kubeconfig`);
  writeKubeconfig(kubeconfigPath, {
    server: cluster.server,
    certificateAuthorityPath: cluster.caFile,
    userName,
    token,
    namespace,
  });
  return {
    kubeConfig: loadKubeConfig(kubeconfigPath),
    kubeconfigPath,
    userName,
    serviceAccountName: name,
    token,
  };
}

/**
 * The RBAC authorizer works from a watch cache, so a new binding takes a moment to count. Ask the
 * API (as admin, on the ServiceAccount's behalf) until the first resource rule of the role is allowed.
 */
async function waitForBindingToTakeEffect(
  adminKubeConfig: KubeConfig,
  userName: string,
  namespace: string,
  rules: readonly V1PolicyRule[],
): Promise<void> {
  const rule = rules.find((candidate) => (candidate.resources?.length ?? 0) > 0);
  if (rule === undefined) return;
  const authorization = adminKubeConfig.makeApiClient(AuthorizationV1Api);
  await waitFor(`RBAC to allow ${userName} what its role grants`, async () => {
    const review = await authorization.createSubjectAccessReview({
      body: {
        spec: {
          user: userName,
          groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
          resourceAttributes: {
            namespace,
            group: rule.apiGroups?.[0] ?? '',
            resource: rule.resources?.[0],
            verb: rule.verbs[0],
          },
        },
      },
    });
    return review.status?.allowed === true;
  });
}
