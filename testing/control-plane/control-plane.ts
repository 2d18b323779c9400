// Starts a throwaway Kubernetes control plane on 127.0.0.1 — etcd, kube-apiserver and
// kube-controller-manager, no nodes — in a temporary directory, and stops exactly what it started.
// Pods stay Pending (nothing schedules or runs them), but everything the API and the controllers
// do is real: validation, admission, RBAC, server-side apply, garbage collection, Deployments
// making ReplicaSets making Pods.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { writeControlPlaneCredentials } from './credentials.ts';
import { freePorts } from '../support/free-ports.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { startOrphanReaper } from './orphan-reaper.ts';
import { ManagedProcess } from '../support/processes.ts';
import { waitFor } from '../support/wait.ts';

export interface ControlPlane {
  /** Temporary directory with data, logs, keys and kubeconfigs; removed by stop(). */
  readonly dir: string;
  readonly binDir: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** http://127.0.0.1:<port>: etcd's client URL, for tests that act on storage (compaction). */
  readonly etcdUrl: string;
  /** Admin (system:masters) kubeconfig. */
  readonly kubeconfigPath: string;
  /** PEM bundle that verifies the apiserver's serving certificate. */
  readonly certificateAuthorityPath: string;
  readonly processes: readonly ManagedProcess[];
  /** Stops kube-apiserver and starts it again on the same port and etcd: watches break, data stays. */
  restartApiServer(): Promise<void>;
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  /** Holds etcd, kube-apiserver, kube-controller-manager (see ensureClusterBinaries()). */
  readonly binDir: string;
  /** Keep the directory (logs, etcd data) after stop(), for debugging. */
  readonly keepDir?: boolean;
  /** For each server to become ready. */
  readonly readyTimeoutMs?: number;
  /** More kube-apiserver flags, e.g. a feature gate a test needs off. */
  readonly apiServerFlags?: readonly string[];
}

/**
 * The controllers the tests rely on. Everything else (node lifecycle, volumes, jobs, …) stays off:
 * there are no nodes, and fewer controllers start faster.
 */
export const ENABLED_CONTROLLERS = [
  'garbage-collector-controller',
  'namespace-controller',
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'root-ca-certificate-publisher-controller',
  'clusterrole-aggregation-controller',
  'deployment-controller',
  'replicaset-controller',
  'statefulset-controller',
  // The admission plugin puts a finalizer on every claim; without this controller to lift it, a
  // namespace holding a StatefulSet's claims never finishes deleting.
  'persistentvolumeclaim-protection-controller',
  // Binding claims to volumes, and lifting the admission plugin's finalizer from deleted volumes:
  // the end-to-end node's volume provisioner is tested here (e2e/volumes).
  'persistentvolume-binder-controller',
  'persistentvolume-protection-controller',
] as const;

interface HttpsProbe {
  readonly url: string;
  readonly certificateAuthorityPath: string;
  readonly token: string;
}

function httpsStatus({ url, certificateAuthorityPath, token }: HttpsProbe): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        ca: readFileSync(certificateAuthorityPath),
        headers: { authorization: `Bearer ${token}` },
        timeout: 5000,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

async function httpStatus(url: string): Promise<number> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  await response.body?.cancel();
  return response.status;
}

export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const { binDir, keepDir = false, readyTimeoutMs = 120_000 } = options;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mtopo-cluster-'));
  const processes: ManagedProcess[] = [];
  const reaperPids: number[] = [];

  // If the test runner exits without calling stop() (an uncaught error, process.exit()), end the
  // servers anyway; nothing asynchronous can run here, so only signal them.
  const signalAllOnExit = (): void => {
    for (const server of processes) server.signal('SIGTERM');
  };
  process.on('exit', signalAllOnExit);

  const stop = async (): Promise<void> => {
    process.off('exit', signalAllOnExit);
    for (const pid of reaperPids.splice(0)) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
    }
    // Reverse start order: the controller-manager and apiserver shut down cleanly while etcd is up.
    for (const server of [...processes].reverse()) await server.stop(10_000);
    if (!keepDir) rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  };

  const start = (name: string, args: readonly string[]): ManagedProcess => {
    const server = ManagedProcess.spawn(name, path.join(binDir, name), args, {
      logFile: path.join(dir, `${name}.log`),
      unref: true,
    });
    processes.push(server);
    return server;
  };
  const waitUntilReady = (server: ManagedProcess, what: string, probe: () => Promise<boolean>) =>
    waitFor(what, probe, {
      timeoutMs: readyTimeoutMs,
      intervalMs: 200,
      abortIf: () =>
        server.hasExited() ? `${server.name} exited; its log ends:\n${server.logTail()}` : undefined,
    });

  try {
    const [etcdClientPort, etcdPeerPort, apiserverPort] = (await freePorts(3)) as [number, number, number];
    const credentials = writeControlPlaneCredentials(dir);

    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const etcdPeerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    const etcd = start('etcd', [
      '--name=mtopo-test',
      `--data-dir=${path.join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${etcdPeerUrl}`,
      `--initial-advertise-peer-urls=${etcdPeerUrl}`,
      `--initial-cluster=mtopo-test=${etcdPeerUrl}`,
      // Test data is thrown away: durability only costs time.
      '--unsafe-no-fsync',
      '--log-level=warn',
    ]);
    await waitUntilReady(etcd, 'etcd /health', async () => (await httpStatus(`${etcdUrl}/health`)) === 200);

    const server = `https://127.0.0.1:${apiserverPort}`;
    const certDir = path.join(dir, 'apiserver-certs');
    // kube-apiserver writes a CA and a serving certificate for 127.0.0.1 here; the .crt holds both.
    const certificateAuthorityPath = path.join(certDir, 'apiserver.crt');
    const apiserverArgs = [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiserverPort}`,
      `--cert-dir=${certDir}`,
      `--token-auth-file=${credentials.tokenFilePath}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${credentials.serviceAccountPublicKeyPath}`,
      `--service-account-signing-key-file=${credentials.serviceAccountKeyPath}`,
      // Only the range Service ClusterIPs are allocated from: nothing listens or routes there.
      '--service-cluster-ip-range=10.0.0.0/24',
      // The lease reconciler would publish 127.0.0.1 as the `kubernetes` Service's endpoint, which
      // the API rejects (loopback), logging an error every few seconds; nothing needs that endpoint.
      '--endpoint-reconciler-type=none',
      '--profiling=false',
      ...(options.apiServerFlags ?? []),
    ];
    const adminProbe = { certificateAuthorityPath, token: credentials.adminToken };
    const startApiServer = async (): Promise<ManagedProcess> => {
      const apiserver = start('kube-apiserver', apiserverArgs);
      await waitUntilReady(
        apiserver,
        'kube-apiserver /readyz',
        async () =>
          existsSync(certificateAuthorityPath) &&
          (await httpsStatus({ ...adminProbe, url: `${server}/readyz` })) === 200,
      );
      return apiserver;
    };
    let apiserver = await startApiServer();
    const restartApiServer = async (): Promise<void> => {
      await apiserver.stop();
      processes.splice(processes.indexOf(apiserver), 1);
      apiserver = await startApiServer();
      reaperPids.push(startOrphanReaper({ watchedPid: process.pid, pids: [apiserver.pid] }));
    };

    const kubeconfigPath = path.join(dir, 'admin.kubeconfig');
    writeKubeconfig(kubeconfigPath, {
      server,
      certificateAuthorityPath,
      userName: credentials.adminUser,
      token: credentials.adminToken,
    });

    const controllerManager = start('kube-controller-manager', [
      `--kubeconfig=${kubeconfigPath}`,
      // One instance: no need to wait for a leader lease.
      '--leader-elect=false',
      // No HTTPS endpoint of its own: one less port, and readiness is judged by its effects.
      '--secure-port=0',
      `--controllers=${ENABLED_CONTROLLERS.join(',')}`,
      `--service-account-private-key-file=${credentials.serviceAccountKeyPath}`,
      `--root-ca-file=${certificateAuthorityPath}`,
    ]);
    // The serviceaccount controller creating `default` in `default` shows the controllers are running.
    await waitUntilReady(
      controllerManager,
      'kube-controller-manager to create the default ServiceAccount',
      async () =>
        (await httpsStatus({
          ...adminProbe,
          url: `${server}/api/v1/namespaces/default/serviceaccounts/default`,
        })) === 200,
    );

    reaperPids.push(
      startOrphanReaper({
        watchedPid: process.pid,
        pids: processes.map((p) => p.pid),
        ...(keepDir ? {} : { dir }),
      }),
    );
    return {
      dir,
      binDir,
      server,
      etcdUrl,
      kubeconfigPath,
      certificateAuthorityPath,
      processes,
      restartApiServer,
      stop,
    };
  } catch (error) {
    // The directory (and the logs) go with stop(): keep what explains the failure in the error.
    const logs = processes.map((p) => `--- ${p.name} log (last lines) ---\n${p.logTail()}`).join('\n');
    await stop();
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${logs}`, { cause: error });
  }
}
