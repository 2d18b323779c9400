// Where the API server is and how to authenticate to it, read from a kubeconfig or from the pod's
// ServiceAccount, without @kubernetes/client-node at run time: importing that package costs the
// operator about 85 MiB of resident memory (it loads every generated API and model), and the
// operator needs only this. What it reads, as client-go does:
//
//   - the current context's cluster: server, certificate-authority(-data), tls-server-name,
//     insecure-skip-tls-verify;
//   - its user: token or tokenFile, client-certificate(-data) and client-key(-data), or an exec
//     credential plugin (client.authentication.k8s.io ExecCredential: a token or a client
//     certificate, cached until its expirationTimestamp);
//   - in a pod: KUBERNETES_SERVICE_HOST/PORT, and the projected token and CA under
//     /var/run/secrets/kubernetes.io/serviceaccount.
//
// Files (tokens, certificates) are read again at most every minute, so rotated ones are picked up:
// kubelet rotates the projected token, cert-manager rotates certificate files. Not supported, and
// refused with a message: HTTP proxies, basic auth, and the legacy auth-provider plugins (gcp,
// azure, oidc), which kubectl itself replaced with exec plugins.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { load } from 'js-yaml';

export interface TlsMaterial {
  readonly ca?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
  readonly servername?: string | undefined;
  readonly rejectUnauthorized?: boolean | undefined;
}

export interface Credentials {
  readonly headers: Record<string, string>;
  readonly tls: TlsMaterial;
}

/** What KubeClient needs: the server, and fresh credentials for each request. */
export interface ClusterAccess {
  readonly server: string;
  /** The context's namespace (a pod's own), for tools that act where kubectl would. */
  readonly namespace?: string;
  credentials(): Promise<Credentials>;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const FILE_TTL_MS = 60_000;

/** A file read again at most once a minute. */
function rereadEvery(file: string, ttlMs = FILE_TTL_MS): () => string {
  let value = '';
  let readAt = -Infinity;
  return () => {
    if (Date.now() - readAt >= ttlMs) {
      value = readFileSync(file, 'utf8');
      readAt = Date.now();
    }
    return value;
  };
}

interface ExecConfig {
  command: string;
  args?: string[];
  env?: { name: string; value: string }[] | null;
  apiVersion?: string;
}

interface ExecCredential {
  status?: {
    token?: string;
    clientCertificateData?: string;
    clientKeyData?: string;
    expirationTimestamp?: string;
  };
}

/** Runs an exec credential plugin; its answer is kept until it expires (forever without expiry). */
function execPlugin(exec: ExecConfig, baseDir: string): () => Promise<ExecCredential['status']> {
  let cached: { status: NonNullable<ExecCredential['status']>; expires: number } | undefined;
  let running: Promise<NonNullable<ExecCredential['status']>> | undefined;
  const run = () =>
    new Promise<NonNullable<ExecCredential['status']>>((resolve, reject) => {
      const command = exec.command.includes('/') ? path.resolve(baseDir, exec.command) : exec.command;
      const env = { ...process.env };
      for (const { name, value } of exec.env ?? []) env[name] = value;
      env.KUBERNETES_EXEC_INFO = JSON.stringify({
        apiVersion: exec.apiVersion ?? 'client.authentication.k8s.io/v1',
        kind: 'ExecCredential',
        spec: { interactive: false },
      });
      const child = spawn(command, exec.args ?? [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => {
        if (code !== 0)
          return reject(new Error(`exec credential plugin ${exec.command} exited ${code}: ${stderr.trim()}`));
        try {
          const status = (JSON.parse(stdout) as ExecCredential).status;
          if (!status) throw new Error('no status');
          resolve(status);
        } catch (error) {
          reject(
            new Error(
              `exec credential plugin ${exec.command} printed no ExecCredential: ${(error as Error).message}`,
            ),
          );
        }
      });
    });
  return async () => {
    if (cached && Date.now() < cached.expires) return cached.status;
    running ??= run().finally(() => (running = undefined));
    const status = await running;
    const expires = status.expirationTimestamp ? Date.parse(status.expirationTimestamp) : Infinity;
    cached = { status, expires };
    return status;
  };
}

type Named<K extends string, T> = { name: string } & Record<K, T>;

interface KubeconfigFile {
  'current-context'?: string;
  contexts?: Named<'context', { cluster: string; user: string; namespace?: string }>[];
  clusters?: Named<
    'cluster',
    {
      server: string;
      'certificate-authority'?: string;
      'certificate-authority-data'?: string;
      'tls-server-name'?: string;
      'insecure-skip-tls-verify'?: boolean;
      'proxy-url'?: string;
    }
  >[];
  users?: Named<
    'user',
    {
      token?: string;
      tokenFile?: string;
      'client-certificate'?: string;
      'client-certificate-data'?: string;
      'client-key'?: string;
      'client-key-data'?: string;
      exec?: ExecConfig;
      'auth-provider'?: unknown;
      username?: string;
    } | null
  >[];
}

const fromBase64 = (data: string) => Buffer.from(data, 'base64').toString('utf8');

/** The cluster of a kubeconfig file's current context (or of `context`). */
export function clusterAccessFromKubeconfig(file: string, context?: string): ClusterAccess {
  const config = (load(readFileSync(file, 'utf8')) ?? {}) as KubeconfigFile;
  const baseDir = path.dirname(file);
  const contextName = context ?? config['current-context'];
  const current = config.contexts?.find((c) => c.name === contextName)?.context;
  if (!current) throw new Error(`${file}: no context ${JSON.stringify(contextName)}`);
  const cluster = config.clusters?.find((c) => c.name === current.cluster)?.cluster;
  if (!cluster?.server) throw new Error(`${file}: context ${contextName} names no cluster with a server`);
  if (cluster['proxy-url']) throw new Error(`${file}: proxy-url is not supported by the operator`);
  const user = config.users?.find((u) => u.name === current.user)?.user ?? {};
  if (user['auth-provider']) {
    throw new Error(`${file}: auth-provider plugins are not supported; use an exec credential plugin`);
  }
  if (user.username) throw new Error(`${file}: basic auth (username/password) is not supported`);
  const resolve = (p: string) => path.resolve(baseDir, p);
  const ca = cluster['certificate-authority-data']
    ? () => fromBase64(cluster['certificate-authority-data']!)
    : cluster['certificate-authority']
      ? rereadEvery(resolve(cluster['certificate-authority']))
      : () => undefined;
  const cert = user['client-certificate-data']
    ? () => fromBase64(user['client-certificate-data']!)
    : user['client-certificate']
      ? rereadEvery(resolve(user['client-certificate']))
      : () => undefined;
  const key = user['client-key-data']
    ? () => fromBase64(user['client-key-data']!)
    : user['client-key']
      ? rereadEvery(resolve(user['client-key']))
      : () => undefined;
  const token = user.token
    ? () => user.token
    : user.tokenFile
      ? rereadEvery(resolve(user.tokenFile))
      : () => undefined;
  const exec = user.exec ? execPlugin(user.exec, baseDir) : undefined;
  return {
    server: cluster.server.replace(/\/$/, ''),
    ...(current.namespace ? { namespace: current.namespace } : {}),
    async credentials(): Promise<Credentials> {
      const plugin = exec ? await exec() : undefined;
      const bearer = plugin?.token ?? token()?.trim();
      const headers: Record<string, string> = {};
      if (bearer) headers.Authorization = `Bearer ${bearer}`;
      return {
        headers,
        tls: {
          ca: ca(),
          cert: plugin?.clientCertificateData ?? cert(),
          key: plugin?.clientKeyData ?? key(),
          servername: cluster['tls-server-name'],
          rejectUnauthorized: cluster['insecure-skip-tls-verify'] === true ? false : undefined,
        },
      };
    },
  };
}

/** In a pod: the API server from the environment, the ServiceAccount's rotating token and CA. */
export function inClusterAccess(dir = SERVICE_ACCOUNT_DIR): ClusterAccess {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT ?? '443';
  if (!host) throw new Error('KUBERNETES_SERVICE_HOST is not set: not running in a pod');
  const token = rereadEvery(path.join(dir, 'token'));
  const ca = rereadEvery(path.join(dir, 'ca.crt'));
  const namespaceFile = path.join(dir, 'namespace');
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    ...(existsSync(namespaceFile) ? { namespace: readFileSync(namespaceFile, 'utf8').trim() } : {}),
    credentials: () =>
      Promise.resolve({ headers: { Authorization: `Bearer ${token().trim()}` }, tls: { ca: ca() } }),
  };
}

/** As kubectl: $KUBECONFIG (its first file), ~/.kube/config, else in-cluster. */
export function loadClusterAccess(env = process.env): ClusterAccess {
  const fromEnv = env.KUBECONFIG?.split(path.delimiter).find((f) => f !== '');
  if (fromEnv) return clusterAccessFromKubeconfig(fromEnv);
  const home = path.join(homedir(), '.kube', 'config');
  if (existsSync(home)) return clusterAccessFromKubeconfig(home);
  return inClusterAccess();
}
