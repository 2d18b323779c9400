// Starts the single-node cluster: the pinned control plane on the host end of the veth, and the
// node (containerd, kubelet, kube-proxy, kube-router) in its own network namespace, then CoreDNS as
// a pod and the LoadBalancer controller. Every step is recorded in the state file first, so a start
// that dies halfway is undone by the reaper or by stop.ts (teardown.ts).
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync, appendFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { ensureClusterBinaries } from '../../testing/control-plane/binaries.ts';
import { writeControlPlaneCredentials } from '../../testing/control-plane/credentials.ts';
import { loadKubeConfig, writeKubeconfig } from '../../testing/control-plane/kubeconfig.ts';
import { buildGoTool } from '../../testing/go-tools/build.ts';
import { freePorts } from '../../testing/support/free-ports.ts';
import { ManagedProcess, run } from '../../testing/support/processes.ts';
import { waitFor } from '../../testing/support/wait.ts';
import { importImage, writeStaticBinaryImage, type ContainerdTarget } from '../../images/build/index.ts';
import { KubeClient } from '../../operator/src/reconcile/kube/rest-client.ts';
import { DAEMON_CREATED_PATHS } from './footprint.ts';
import { coreDnsObjects, KUBE_ROUTER_USER, kubeRouterRbac } from './addons.ts';
import { writeKubeletClientCertificates } from './certificates.ts';
import {
  API_SERVER_URL,
  cniConfig,
  containerdConfig,
  kubeletConfig,
  kubeProxyConfig,
  kubeRouterArgs,
  nodeDirs,
} from './configs.ts';
import { LoadBalancerController } from './load-balancer-controller.ts';
import { startProvisioner, type Provisioner } from '../volumes/provisioner.ts';
import {
  checkNetworkIsFree,
  createCgroup,
  createNodeNetwork,
  isMountPoint,
  joinCgroup,
  mountPoints,
  netnsNames,
  nodeCommand,
  readSysctls,
} from './machine.ts';
import { isRunning, readNodeState, recordProcess, writeNodeState, type NodeState } from './node-state.ts';
import {
  API_SERVER_PORT,
  DAEMONS_CGROUP,
  HOST_ADDRESS,
  KUBELET_SYSCTLS,
  NETNS_PATH,
  NODE_ADDRESS,
  NODE_NAME,
  PAUSE_IMAGE,
  POD_CIDR,
  SERVICE_CIDR,
} from './plan.ts';
import { startNodeReaper } from './reaper.ts';
import { tearDownNode, type TeardownReport } from './teardown.ts';

export const COREDNS_IMAGE = 'localhost/mtopo-e2e/coredns:v1';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const goTool = (name: string): Promise<string> => buildGoTool(path.join(repoRoot, 'e2e', 'go-tools', name));

export interface NodeBinaries {
  /** etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy, kubectl. */
  readonly cluster: string;
  /** containerd, containerd-shim-runc-v2, ctr. */
  readonly containerd: string;
  readonly coredns: string;
  readonly kubeRouter: string;
  readonly crictl: string;
  readonly pause: string;
}

/** Every binary the node needs, built once and cached by the hash of its inputs (build.sh). */
export async function ensureNodeBinaries(): Promise<NodeBinaries> {
  // One at a time: each build already uses every core, and two at once only thrash.
  const cluster = await ensureClusterBinaries();
  const containerd = await goTool('containerd');
  const pause = await goTool('pause');
  const crictl = await goTool('crictl');
  const kubeRouter = await goTool('kube-router');
  const coredns = await goTool('coredns');
  return { cluster, containerd, coredns, kubeRouter, crictl, pause };
}

export interface RunningNode {
  readonly dir: string;
  readonly kubeconfigPath: string;
  readonly binaries: NodeBinaries;
  /** Where to import test images (ctr's socket and binary, the CRI's namespace). */
  readonly containerd: ContainerdTarget;
  readonly crictlArgs: readonly string[];
  /** Seconds from the start to the Node's Ready condition, and to CoreDNS available. */
  readonly timings: { readonly nodeReady: number; readonly dnsReady: number };
  stop(): Promise<TeardownReport>;
}

export interface NodeOptions {
  /** Progress lines (stderr for start.ts). */
  readonly log?: (line: string) => void;
  readonly readyTimeoutMs?: number;
}

/** Tokens for the token file: the admin comes from credentials.ts, these are the node's daemons. */
const DAEMON_USERS = {
  kubelet: { user: `system:node:${NODE_NAME}`, groups: ['system:nodes'] },
  'kube-proxy': { user: 'system:kube-proxy', groups: [] },
  'kube-router': { user: KUBE_ROUTER_USER, groups: [] },
  'kube-scheduler': { user: 'system:kube-scheduler', groups: [] },
  'kube-controller-manager': { user: 'system:kube-controller-manager', groups: [] },
} as const;

export async function startNode(options: NodeOptions = {}): Promise<RunningNode> {
  const log = options.log ?? (() => {});
  const readyTimeoutMs = options.readyTimeoutMs ?? 300_000;
  const startedAt = performance.now();
  const seconds = (): number => Math.round((performance.now() - startedAt) / 100) / 10;

  const previous = readNodeState();
  if (previous !== undefined) {
    if (isRunning(previous.owner))
      throw new Error(
        `a node is running already (started by PID ${previous.owner.pid}, ${previous.dir}): use it, or stop it with node e2e/stop.ts`,
      );
    log(`cleaning up after a node whose starter (PID ${previous.owner.pid}) died`);
    const report = await tearDownNode(previous, log);
    if (report.problems.length > 0)
      throw new Error(`could not clean up the last node:\n${report.problems.join('\n')}`);
  }
  await checkNetworkIsFree();

  const binaries = await ensureNodeBinaries();
  const dir = mkdtempSync('/tmp/mtopo-e2e-');
  chmodSync(dir, 0o755);
  const dirs = nodeDirs(dir);
  for (const sub of [
    dirs.containerdRoot,
    dirs.containerdState,
    dirs.cniConfDir,
    dirs.cniDataDir,
    dirs.kubeletRoot,
    dirs.podLogs,
    dirs.volumePlugins,
  ])
    mkdirSync(sub, { recursive: true });
  const kubeconfigPath = path.join(dir, 'admin.kubeconfig');
  const crictl = path.join(binaries.crictl, 'crictl');

  const state: NodeState = {
    owner: recordProcess('owner', process.pid),
    dir,
    kubeconfigPath,
    crictl,
    containerdSocket: dirs.containerdSocket,
    sysctls: readSysctls(KUBELET_SYSCTLS),
    netnsMountedBefore: isMountPoint('/run/netns'),
    netnsBefore: netnsNames(),
    mountsBefore: mountPoints(),
    // Made by the daemons whatever their configuration (the kubelet's container log links and its
    // device-plugin socket, containerd's shim sockets, libcni's result cache): removed if new.
    createdPaths: DAEMON_CREATED_PATHS.filter((p) => !existsSync(p)),
    processes: [],
  };
  writeNodeState(state);
  const reaper = startNodeReaper();
  state.processes.push(recordProcess('reaper', reaper));
  writeNodeState(state);

  const processes: ManagedProcess[] = [];
  let loadBalancers: LoadBalancerController | undefined;
  let volumes: Provisioner | undefined;
  const stop = async (): Promise<TeardownReport> => {
    await loadBalancers?.stop().catch(() => undefined);
    await volumes?.stop().catch(() => undefined);
    return tearDownNode(state, log);
  };
  const start = (name: string, command: string, args: readonly string[], inNode: boolean): ManagedProcess => {
    const [program, argv] = inNode ? nodeCommand(command, args) : [command, [...args]];
    const daemon = ManagedProcess.spawn(name, program, argv, {
      logFile: path.join(dir, `${name}.log`),
      unref: true,
    });
    processes.push(daemon);
    state.processes.push(recordProcess(name, daemon.pid));
    writeNodeState(state);
    // In the node's cgroup (pids hierarchy): what it starts is found there at teardown.
    if (inNode) joinCgroup('pids', DAEMONS_CGROUP, daemon.pid);
    return daemon;
  };
  const waitUntil = <T>(
    daemon: ManagedProcess,
    what: string,
    probe: () => Promise<T | false | undefined>,
  ): Promise<T> =>
    waitFor(what, probe, {
      timeoutMs: readyTimeoutMs,
      intervalMs: 250,
      abortIf: () =>
        daemon.hasExited() ? `${daemon.name} exited; its log ends:\n${daemon.logTail()}` : undefined,
    });
  const kubectl = async (args: string[], input?: string) => {
    const result = await run(
      path.join(binaries.cluster, 'kubectl'),
      [`--kubeconfig=${kubeconfigPath}`, ...args],
      {
        timeoutMs: 60_000,
        ...(input === undefined ? {} : { input }),
        env: { ...process.env, KUBECACHEDIR: path.join(dir, 'kubectl-cache') },
      },
    );
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr.trim()}`);
    return result.stdout;
  };

  try {
    log('network namespace and cgroups');
    await createNodeNetwork();
    createCgroup(DAEMONS_CGROUP);

    const credentials = writeControlPlaneCredentials(dir);
    const tokens = Object.fromEntries(
      Object.keys(DAEMON_USERS).map((name) => [
        name,
        `${name.replace(/[^a-z]/g, '')}${Math.random().toString(36).slice(2)}${Date.now()}`,
      ]),
    ) as Record<keyof typeof DAEMON_USERS, string>;
    for (const [name, { user, groups }] of Object.entries(DAEMON_USERS))
      appendFileSync(
        credentials.tokenFilePath,
        `${tokens[name as keyof typeof DAEMON_USERS]},${user},${user},"${groups.join(',')}"\n`,
      );
    const kubeletCertificates = await writeKubeletClientCertificates(dir);
    const certificateAuthorityPath = path.join(dir, 'apiserver-certs', 'apiserver.crt');
    writeKubeconfig(kubeconfigPath, {
      server: API_SERVER_URL,
      certificateAuthorityPath,
      userName: credentials.adminUser,
      token: credentials.adminToken,
    });
    const daemonKubeconfig = (name: keyof typeof DAEMON_USERS): string => {
      const file = path.join(dir, `${name}.kubeconfig`);
      writeKubeconfig(file, {
        server: API_SERVER_URL,
        certificateAuthorityPath,
        userName: DAEMON_USERS[name].user,
        token: tokens[name],
      });
      return file;
    };

    log('etcd and kube-apiserver');
    const [etcdClientPort, etcdPeerPort] = (await freePorts(2)) as [number, number];
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const etcd = start(
      'etcd',
      path.join(binaries.cluster, 'etcd'),
      [
        '--name=mtopo-e2e',
        `--data-dir=${path.join(dir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-cluster=mtopo-e2e=http://127.0.0.1:${etcdPeerPort}`,
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
      false,
    );
    await waitUntil(
      etcd,
      'etcd /health',
      async () => (await fetch(`${etcdUrl}/health`, { signal: AbortSignal.timeout(5000) })).ok,
    );

    const apiserver = start(
      'kube-apiserver',
      path.join(binaries.cluster, 'kube-apiserver'),
      [
        `--etcd-servers=${etcdUrl}`,
        // The host end of the veth: the kubelet reaches it from the node's namespace, and the
        // `kubernetes` Service's endpoint is an address pods can route to.
        `--bind-address=${HOST_ADDRESS}`,
        `--advertise-address=${HOST_ADDRESS}`,
        `--secure-port=${API_SERVER_PORT}`,
        `--cert-dir=${path.join(dir, 'apiserver-certs')}`,
        `--token-auth-file=${credentials.tokenFilePath}`,
        '--authorization-mode=Node,RBAC',
        '--enable-admission-plugins=NodeRestriction',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${credentials.serviceAccountPublicKeyPath}`,
        `--service-account-signing-key-file=${credentials.serviceAccountKeyPath}`,
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        `--kubelet-client-certificate=${kubeletCertificates.clientCertificatePath}`,
        `--kubelet-client-key=${kubeletCertificates.clientKeyPath}`,
        '--kubelet-preferred-address-types=InternalIP',
        '--profiling=false',
      ],
      false,
    );
    await waitUntil(apiserver, 'kube-apiserver /readyz', async () => {
      if (!existsSync(certificateAuthorityPath)) return false;
      return (
        (
          await run(
            path.join(binaries.cluster, 'kubectl'),
            [`--kubeconfig=${kubeconfigPath}`, 'get', '--raw=/readyz'],
            { timeoutMs: 10_000 },
          )
        ).code === 0
      );
    });
    const client = new KubeClient(loadKubeConfig(kubeconfigPath), { fieldManager: 'mtopo-e2e-node' });

    log('controller-manager and scheduler');
    start(
      'kube-controller-manager',
      path.join(binaries.cluster, 'kube-controller-manager'),
      [
        `--kubeconfig=${daemonKubeconfig('kube-controller-manager')}`,
        '--leader-elect=false',
        '--secure-port=0',
        // All of them: node lifecycle lifts the not-ready taint, the IPAM one sets spec.podCIDR.
        '--controllers=*',
        '--use-service-account-credentials',
        `--service-account-private-key-file=${credentials.serviceAccountKeyPath}`,
        `--root-ca-file=${certificateAuthorityPath}`,
        '--allocate-node-cidrs',
        `--cluster-cidr=${POD_CIDR}`,
        '--node-cidr-mask-size=24',
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        // Not /usr/libexec/kubernetes/kubelet-plugins/volume/exec, which it would create.
        `--flex-volume-plugin-dir=${dirs.volumePlugins}`,
      ],
      false,
    );
    start(
      'kube-scheduler',
      path.join(binaries.cluster, 'kube-scheduler'),
      [`--kubeconfig=${daemonKubeconfig('kube-scheduler')}`, '--leader-elect=false', '--secure-port=0'],
      false,
    );

    log('containerd');
    const containerdConfigPath = path.join(dir, 'containerd.toml');
    const runc = (await run('sh', ['-c', 'command -v runc'])).stdout.trim();
    if (runc === '') throw new Error('runc is not installed: run e2e/install-deps.sh');
    writeFileSync(containerdConfigPath, containerdConfig(dirs, runc, '/usr/lib/cni'));
    writeFileSync(path.join(dirs.cniConfDir, '10-mtopo-e2e.conflist'), cniConfig(dirs));
    const containerd = start(
      'containerd',
      path.join(binaries.containerd, 'containerd'),
      [`--config=${containerdConfigPath}`, '--log-level=warn'],
      true,
    );
    const target: ContainerdTarget = {
      address: dirs.containerdSocket,
      ctr: path.join(binaries.containerd, 'ctr'),
    };
    const crictlArgs = [
      '--runtime-endpoint',
      `unix://${dirs.containerdSocket}`,
      '--image-endpoint',
      `unix://${dirs.containerdSocket}`,
    ];
    await waitUntil(
      containerd,
      'containerd to answer',
      async () => (await run(crictl, [...crictlArgs, 'info'], { timeoutMs: 10_000 })).code === 0,
    );

    log('images for the cluster pods');
    const imagesDir = path.join(dir, 'images');
    mkdirSync(imagesDir);
    for (const image of [
      { name: PAUSE_IMAGE, binary: path.join(binaries.pause, 'pause'), user: '65535:65535' },
      { name: COREDNS_IMAGE, binary: path.join(binaries.coredns, 'coredns') },
    ]) {
      const archive = path.join(imagesDir, `${path.basename(image.binary)}.tar`);
      await writeStaticBinaryImage(image, archive);
      await importImage(archive, image.name, target);
    }

    log('kubelet, kube-proxy, kube-router');
    await kubectl(
      ['apply', '--server-side', '--field-manager=mtopo-e2e-node', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: kubeRouterRbac() }),
    );
    const kubeletConfigPath = path.join(dir, 'kubelet-config.json');
    writeFileSync(
      kubeletConfigPath,
      JSON.stringify(kubeletConfig({ dirs, clientCaPath: kubeletCertificates.caPath }), null, 2),
    );
    const kubelet = start(
      'kubelet',
      path.join(binaries.cluster, 'kubelet'),
      [
        `--config=${kubeletConfigPath}`,
        `--kubeconfig=${daemonKubeconfig('kubelet')}`,
        `--root-dir=${dirs.kubeletRoot}`,
        // Its serving certificate: the default is /var/lib/kubelet/pki, whatever the root dir.
        `--cert-dir=${path.join(dirs.kubeletRoot, 'pki')}`,
        `--hostname-override=${NODE_NAME}`,
        `--node-ip=${NODE_ADDRESS}`,
        '--v=1',
      ],
      true,
    );
    const kubeProxyConfigPath = path.join(dir, 'kube-proxy-config.json');
    writeFileSync(
      kubeProxyConfigPath,
      JSON.stringify(kubeProxyConfig(daemonKubeconfig('kube-proxy')), null, 2),
    );
    start(
      'kube-proxy',
      path.join(binaries.cluster, 'kube-proxy'),
      [`--config=${kubeProxyConfigPath}`, '--v=1'],
      true,
    );

    await waitUntil(kubelet, `node ${NODE_NAME} Ready`, async () => {
      const status = await run(
        path.join(binaries.cluster, 'kubectl'),
        [
          `--kubeconfig=${kubeconfigPath}`,
          'get',
          'node',
          NODE_NAME,
          '-o',
          'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
        ],
        { timeoutMs: 10_000 },
      );
      return status.stdout.trim() === 'True';
    });
    const nodeReady = seconds();
    log(`node Ready after ${nodeReady}s`);

    // kube-router's firewall exits at once if the Node object is not there yet.
    const kubeRouter = start(
      'kube-router',
      path.join(binaries.kubeRouter, 'kube-router'),
      kubeRouterArgs(daemonKubeconfig('kube-router')),
      true,
    );
    await waitUntil(kubeRouter, 'kube-router to install its firewall chains', async () => {
      const rules = await run(
        'nsenter',
        [`--net=${NETNS_PATH}`, '--', 'iptables', '-S', 'KUBE-ROUTER-FORWARD'],
        {
          timeoutMs: 10_000,
        },
      );
      return rules.code === 0;
    });

    loadBalancers = new LoadBalancerController(
      client,
      pino(
        { level: process.env.MTOPO_E2E_LOG_LEVEL ?? 'warn' },
        pino.destination(path.join(dir, 'load-balancer-controller.log')),
      ),
    );
    await loadBalancers.start();
    // Claims of the default class (the tiers' spools and mailboxes) get a volume of their own.
    volumes = await startProvisioner(
      loadKubeConfig(kubeconfigPath),
      { root: path.join(dir, 'volumes'), nodeName: NODE_NAME },
      (line) => log(`volumes: ${line}`),
    );

    await kubectl(
      ['apply', '--server-side', '--field-manager=mtopo-e2e-node', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: coreDnsObjects(COREDNS_IMAGE) }),
    );
    await waitUntil(kubelet, 'CoreDNS available', async () => {
      const out = await kubectl([
        '-n',
        'kube-system',
        'get',
        'deployment',
        'coredns',
        '-o',
        'jsonpath={.status.availableReplicas}',
      ]);
      return Number(out.trim()) >= 1;
    });
    const dnsReady = seconds();
    log(`CoreDNS available after ${dnsReady}s`);

    // A daemon that died after its own readiness check (kube-router once did, silently).
    const dead = processes.filter((p) => p.hasExited());
    if (dead.length > 0) throw new Error(`${dead.map((p) => p.name).join(', ')} exited during the start`);

    return {
      dir,
      kubeconfigPath,
      binaries,
      containerd: target,
      crictlArgs,
      timings: { nodeReady, dnsReady },
      stop,
    };
  } catch (error) {
    const logs = processes.map((p) => `--- ${p.name} log (last lines) ---\n${p.logTail(15)}`).join('\n');
    if (process.env.MTOPO_KEEP_NODE_DIR === '1') log(`keeping ${dir} for its logs`);
    await stop();
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${logs}`, { cause: error });
  }
}
