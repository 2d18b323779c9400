// The end-to-end node's fixed layout: names, address ranges and ports. One node runs on a machine at
// a time (its state file says which); the ranges were picked to stay clear of the usual Docker,
// libvirt and Kubernetes defaults, and start.ts refuses to run if the host already routes them.
//
//   host (root namespace)                         node namespace (mtopo-e2e)
//   mtopo-e2e-host 10.250.0.1/30  <— veth —>  mtopo-e2e-node 10.250.0.2/30
//     kube-apiserver 10.250.0.1:6443             kubelet, containerd, kube-proxy, kube-router
//     etcd, controller-manager, scheduler        cni0 10.251.0.1/24: the pods, 10.251.0.10–199
//     route 10.251.0.0/24 via the node             lo: LoadBalancer addresses 10.251.0.225–254
//                                                  route 10.252.0.0/24 (Services) via the host end
//
// The node namespace has no default route, so a pod's packets reach only the host end of the veth,
// other pods and Service addresses. The host routes the pod network to the node: replies from the
// API server to pods (kube-proxy does not masquerade pod sources) and LoadBalancer addresses.

export const NODE_NAME = 'mtopo-e2e-node';
export const NETNS = 'mtopo-e2e';
export const NETNS_PATH = `/run/netns/${NETNS}`;
export const HOST_VETH = 'mtopo-e2e-host';
export const NODE_VETH = 'mtopo-e2e-node';
export const HOST_ADDRESS = '10.250.0.1';
export const NODE_ADDRESS = '10.250.0.2';
export const VETH_PREFIX_LENGTH = 30;
export const API_SERVER_PORT = 6443;

/** controller-manager's --cluster-cidr: one /24, so the node's spec.podCIDR is exactly this. */
export const POD_CIDR = '10.251.0.0/24';
export const BRIDGE = 'cni0';
export const BRIDGE_ADDRESS = '10.251.0.1';
export const POD_RANGE = { start: '10.251.0.10', end: '10.251.0.199' } as const;
/** LoadBalancer addresses: on the bridge's subnet, outside the pods' range. */
export const LOAD_BALANCER_POOL = {
  cidr: '10.251.0.224/27',
  first: '10.251.0.225',
  last: '10.251.0.254',
} as const;

export const SERVICE_CIDR = '10.252.0.0/24';
export const CLUSTER_DNS_ADDRESS = '10.252.0.10';
export const CLUSTER_DOMAIN = 'cluster.local';
/**
 * The internet as the cluster's DNS knows it: one remote mail domain whose MX is a server in the
 * outside namespace's internet zone (TEST-NET-3), so mail for it leaves the site by MX, as real
 * outbound mail does. Nothing else outside the cluster resolves.
 */
export const TEST_INTERNET = {
  domain: 'example.net',
  mxHost: 'mx.example.net',
  mxAddress: '203.0.113.25',
} as const;

/**
 * The kubelet's cgroupRoot, made in every cgroup hierarchy; the node's daemons run in its `daemons`
 * child, so whatever they start (containerd's shims, the containers) is found there at teardown.
 */
export const CGROUP_ROOT = '/mtopo-e2e';
export const DAEMONS_CGROUP = `${CGROUP_ROOT}/daemons`;

/** Images of the cluster's own pods, imported under localhost/ and never pulled. */
export const PAUSE_IMAGE = 'localhost/mtopo-e2e/pause:v1';

/** Where a running node's state is (one node per machine): see machine-state.ts. */
export const STATE_FILE = '/run/mtopo-e2e/node.json';

/**
 * Settings the kubelet changes machine-wide (container manager's kernel tunables): recorded before
 * it starts and written back at teardown.
 */
export const KUBELET_SYSCTLS = [
  'vm/overcommit_memory',
  'vm/panic_on_oom',
  'kernel/panic',
  'kernel/panic_on_oops',
  'kernel/keys/root_maxkeys',
  'kernel/keys/root_maxbytes',
] as const;
