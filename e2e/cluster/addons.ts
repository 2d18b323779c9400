// The cluster's own objects, applied once the API is up: CoreDNS as a pod (with its RBAC, Corefile
// and the kube-dns Service) and the permissions kube-router's firewall reads policies with. Pure.
import { CLUSTER_DNS_ADDRESS, CLUSTER_DOMAIN, TEST_INTERNET } from './plan.ts';

export const KUBE_ROUTER_USER = 'mtopo-e2e:kube-router';
export const COREDNS_PORT = 53;

/**
 * No `forward`: nothing outside the cluster is resolvable, by design (the node has no way out),
 * except the test internet's one mail domain (TEST_INTERNET), served from a zone file of the
 * same ConfigMap.
 * It listens on 53 itself, as cluster DNS does on real clusters: NetworkPolicies match the port
 * after the Service's translation, so a topology's DNS egress rule (port 53, as the operator writes
 * it) must meet CoreDNS on 53, not on a port the Service maps to. Without NET_BIND_SERVICE, the pod
 * lowers its own namespace's unprivileged port start (a safe sysctl the kubelet allows).
 */
export const COREFILE = `.:${COREDNS_PORT} {
    errors
    health :8080
    ready :8181
    kubernetes ${CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 5
    }
    cache 5
    loadbalance
}
${TEST_INTERNET.domain}:${COREDNS_PORT} {
    errors
    file /etc/coredns/${TEST_INTERNET.domain}.zone
}
`;

/** The test internet's zone (RFC 1035 master file): its MX and the MX host's address. */
export const TEST_INTERNET_ZONE = `$ORIGIN ${TEST_INTERNET.domain}.
$TTL 60
@ IN SOA ns.${TEST_INTERNET.domain}. hostmaster.${TEST_INTERNET.domain}. 1 3600 600 86400 60
@ IN NS ${TEST_INTERNET.mxHost}.
@ IN MX 10 ${TEST_INTERNET.mxHost}.
${TEST_INTERNET.mxHost}. IN A ${TEST_INTERNET.mxAddress}
`;

const restricted = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

export function coreDnsObjects(image: string): object[] {
  const labels = { 'k8s-app': 'kube-dns' };
  const meta = (name: string) => ({ name, namespace: 'kube-system', labels });
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('coredns') },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'mtopo-e2e:coredns' },
      rules: [
        {
          apiGroups: [''],
          resources: ['endpoints', 'services', 'pods', 'namespaces'],
          verbs: ['list', 'watch'],
        },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'mtopo-e2e:coredns' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'mtopo-e2e:coredns' },
      subjects: [{ kind: 'ServiceAccount', name: 'coredns', namespace: 'kube-system' }],
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta('coredns'),
      data: { Corefile: COREFILE, [`${TEST_INTERNET.domain}.zone`]: TEST_INTERNET_ZONE },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta('coredns'),
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: 'coredns',
            priorityClassName: 'system-cluster-critical',
            // The cluster DNS cannot use itself.
            dnsPolicy: 'Default',
            securityContext: {
              runAsUser: 65532,
              runAsGroup: 65532,
              seccompProfile: { type: 'RuntimeDefault' },
              sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: String(COREDNS_PORT) }],
            },
            containers: [
              {
                name: 'coredns',
                image,
                imagePullPolicy: 'Never',
                args: ['-conf', '/etc/coredns/Corefile'],
                ports: [
                  { name: 'dns', containerPort: COREDNS_PORT, protocol: 'UDP' },
                  { name: 'dns-tcp', containerPort: COREDNS_PORT, protocol: 'TCP' },
                ],
                readinessProbe: { httpGet: { path: '/ready', port: 8181 }, periodSeconds: 2 },
                livenessProbe: {
                  httpGet: { path: '/health', port: 8080 },
                  periodSeconds: 10,
                  failureThreshold: 5,
                },
                resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } },
                securityContext: restricted,
                volumeMounts: [{ name: 'config', mountPath: '/etc/coredns', readOnly: true }],
              },
            ],
            volumes: [{ name: 'config', configMap: { name: 'coredns' } }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta('kube-dns'),
      spec: {
        clusterIP: CLUSTER_DNS_ADDRESS,
        selector: labels,
        ports: [
          { name: 'dns', port: 53, targetPort: COREDNS_PORT, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, targetPort: COREDNS_PORT, protocol: 'TCP' },
        ],
      },
    },
  ];
}

/** What kube-router's firewall reads to build the policy chains and ipsets. */
export function kubeRouterRbac(): object[] {
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: KUBE_ROUTER_USER },
      rules: [
        {
          apiGroups: [''],
          resources: ['namespaces', 'pods', 'services', 'nodes', 'endpoints'],
          verbs: ['get', 'list', 'watch'],
        },
        { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: KUBE_ROUTER_USER },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: KUBE_ROUTER_USER },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: KUBE_ROUTER_USER }],
    },
  ];
}
