// The node daemons' configuration files, as pure functions of the node's directories and the plan
// (plan.ts). Each setting that is not a default says why: most keep a daemon from touching the
// machine outside the node's directory, network namespace and cgroup.
import path from 'node:path';
import {
  API_SERVER_PORT,
  BRIDGE,
  BRIDGE_ADDRESS,
  CGROUP_ROOT,
  CLUSTER_DNS_ADDRESS,
  CLUSTER_DOMAIN,
  HOST_ADDRESS,
  NODE_ADDRESS,
  NODE_NAME,
  PAUSE_IMAGE,
  POD_CIDR,
  POD_RANGE,
} from './plan.ts';

/** The node's working directory and what lives in it (all removed at teardown). */
export interface NodeDirs {
  readonly root: string;
  readonly containerdRoot: string;
  readonly containerdState: string;
  readonly containerdSocket: string;
  readonly cniConfDir: string;
  readonly cniDataDir: string;
  readonly kubeletRoot: string;
  readonly podLogs: string;
  readonly volumePlugins: string;
}

export function nodeDirs(root: string): NodeDirs {
  return {
    root,
    containerdRoot: path.join(root, 'containerd', 'root'),
    containerdState: path.join(root, 'containerd', 'state'),
    containerdSocket: path.join(root, 'containerd', 'containerd.sock'),
    cniConfDir: path.join(root, 'cni', 'net.d'),
    cniDataDir: path.join(root, 'cni', 'ipam'),
    kubeletRoot: path.join(root, 'kubelet'),
    podLogs: path.join(root, 'pod-logs'),
    volumePlugins: path.join(root, 'volume-plugins'),
  };
}

export const API_SERVER_URL = `https://${HOST_ADDRESS}:${API_SERVER_PORT}`;

/** containerd v2's config (version 3 schema). */
export function containerdConfig(dirs: NodeDirs, runcPath: string, cniBinDir: string): string {
  return `version = 3
root = ${JSON.stringify(dirs.containerdRoot)}
state = ${JSON.stringify(dirs.containerdState)}
# Plugins that would create directories or sockets outside the node's directory, or that need what
# this machine lacks; none is used by the CRI here.
disabled_plugins = [
  "io.containerd.nri.v1.nri",
  "io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.blockfile",
  "io.containerd.snapshotter.v1.erofs",
  "io.containerd.differ.v1.erofs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]

[grpc]
  address = ${JSON.stringify(dirs.containerdSocket)}

[ttrpc]
  address = ${JSON.stringify(`${dirs.containerdSocket}.ttrpc`)}

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"
  # Images are imported (localhost/...), never pulled: nothing here reaches a registry.
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = ${JSON.stringify(PAUSE_IMAGE)}

[plugins."io.containerd.cri.v1.runtime"]
  # No CAP_SYS_RESOURCE here: runc cannot set the sandbox's oom_score_adj of -998 (every pod failed
  # with "can't get final child's PID from pipe: EOF"); this caps it at our own.
  restrict_oom_score_adj = true
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = ${JSON.stringify(runcPath)}
        SystemdCgroup = false
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = [${JSON.stringify(cniBinDir)}]
    conf_dir = ${JSON.stringify(dirs.cniConfDir)}
    max_conf_num = 1

[plugins."io.containerd.grpc.v1.cri"]
  # exec, attach and port-forward streams: loopback of the node's namespace (the kubelet proxies).
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
`;
}

/** The pod network: Debian's bridge, host-local and portmap plugins. */
export function cniConfig(dirs: NodeDirs): string {
  return (
    JSON.stringify(
      {
        cniVersion: '1.0.0',
        name: 'mtopo-e2e',
        plugins: [
          {
            type: 'bridge',
            bridge: BRIDGE,
            isGateway: true,
            // Nothing leaves the node namespace, so there is nothing to masquerade for.
            ipMasq: false,
            // A pod reaching itself through a Service address.
            hairpinMode: true,
            ipam: {
              type: 'host-local',
              ranges: [
                [
                  {
                    subnet: POD_CIDR,
                    rangeStart: POD_RANGE.start,
                    rangeEnd: POD_RANGE.end,
                    gateway: BRIDGE_ADDRESS,
                  },
                ],
              ],
              routes: [{ dst: '0.0.0.0/0' }],
              // Not /var/lib/cni/networks: leases go with the node's directory.
              dataDir: dirs.cniDataDir,
            },
          },
          { type: 'portmap', capabilities: { portMappings: true } },
        ],
      },
      null,
      2,
    ) + '\n'
  );
}

export interface KubeletConfigInputs {
  readonly dirs: NodeDirs;
  readonly clientCaPath: string;
}

export function kubeletConfig({ dirs, clientCaPath }: KubeletConfigInputs): object {
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    // This machine has cgroup v1 and no systemd; the kubelet's v1 support is opt-in since 1.35.
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    cgroupRoot: CGROUP_ROOT,
    containerRuntimeEndpoint: `unix://${dirs.containerdSocket}`,
    address: NODE_ADDRESS,
    port: 10250,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10248,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: clientCaPath },
    },
    authorization: { mode: 'Webhook' },
    clusterDNS: [CLUSTER_DNS_ADDRESS],
    clusterDomain: CLUSTER_DOMAIN,
    // No name lookup leaves the cluster: pods get only the cluster DNS, not the host's resolvers.
    resolvConf: '',
    podLogsDir: dirs.podLogs,
    volumePluginDir: dirs.volumePlugins,
    failSwapOn: false,
    // The machine's disk and memory are shared with other work: evict only when really short.
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
    // Imported images cannot be pulled again: never garbage-collect them.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    rotateCertificates: false,
    serverTLSBootstrap: false,
    // Faster reaction in tests; the defaults are tuned for large clusters.
    nodeStatusUpdateFrequency: '4s',
    syncFrequency: '10s',
  };
}

export function kubeProxyConfig(kubeconfigPath: string): object {
  return {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: 'iptables',
    clientConnection: { kubeconfig: kubeconfigPath },
    hostnameOverride: NODE_NAME,
    clusterCIDR: POD_CIDR,
    bindAddress: NODE_ADDRESS,
    // NodePorts on the node's own address only, which leaves route_localnet alone.
    nodePortAddresses: [`${NODE_ADDRESS}/32`],
    // 0 leaves the machine-wide nf_conntrack_max alone.
    conntrack: { maxPerCore: 0, min: 0 },
    metricsBindAddress: '127.0.0.1:10249',
    healthzBindAddress: '127.0.0.1:10256',
  };
}

/** kube-router as the NetworkPolicy enforcer alone: no routing, no service proxy, no CNI. */
export function kubeRouterArgs(kubeconfigPath: string): string[] {
  return [
    `--kubeconfig=${kubeconfigPath}`,
    `--hostname-override=${NODE_NAME}`,
    '--run-firewall=true',
    '--run-router=false',
    '--run-service-proxy=false',
    '--enable-cni=false',
    '--enable-ipv4=true',
    '--enable-ipv6=false',
    '--metrics-port=0',
    '--health-port=20244',
    // Policies apply within a second or two of a change (the default resync is 5 minutes).
    '--iptables-sync-period=30s',
    '--v=1',
  ];
}
