// What the end-to-end suites share: the test image's pods, a namespace per group of tests, and
// kubectl apply / wait / exec against the node of the run.
import { randomBytes } from 'node:crypto';
import { kubectl } from '../testing/control-plane/kubectl.ts';
import { TEST_NAMESPACE_LABEL } from '../testing/control-plane/namespace.ts';
import { TEST_IMAGE } from './test-image.ts';

/** Waits on the node: generous, as the machine is shared and a pod start waits for the kubelet's sync. */
export const WAIT = { timeoutMs: 240_000, intervalMs: 500 };

export const RESTRICTED = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
};

export interface PodOptions {
  /** Ready once something listens on this port. */
  readonly readyPort?: number;
  readonly user?: number;
  readonly volumes?: { readonly name: string; readonly claimName: string; readonly mountPath: string }[];
}

/** A pod of the test image running `script` in sh, restricted as our tiers are. */
export function testPod(
  name: string,
  labels: Record<string, string>,
  script: string,
  options: PodOptions = {},
): object {
  const user = options.user ?? 65534;
  const volumes = options.volumes ?? [];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels },
    spec: {
      terminationGracePeriodSeconds: 1,
      securityContext: {
        runAsUser: user,
        runAsGroup: user,
        ...(volumes.length > 0 ? { fsGroup: user } : {}),
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [
        {
          name: 'main',
          image: TEST_IMAGE,
          imagePullPolicy: 'Never',
          command: ['sh', '-c', script],
          securityContext: RESTRICTED,
          ...(options.readyPort === undefined
            ? {}
            : { readinessProbe: { tcpSocket: { port: options.readyPort }, periodSeconds: 1 } }),
          ...(volumes.length > 0
            ? { volumeMounts: volumes.map((v) => ({ name: v.name, mountPath: v.mountPath })) }
            : {}),
        },
      ],
      ...(volumes.length > 0
        ? {
            volumes: volumes.map((v) => ({
              name: v.name,
              persistentVolumeClaim: { claimName: v.claimName },
            })),
          }
        : {}),
    },
  };
}

/** A namespace for one group of tests (deleteNamespace after it). */
export async function testNamespace(prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await kubectl(['create', 'namespace', name]);
  await kubectl(['label', 'namespace', name, `${TEST_NAMESPACE_LABEL}=true`]);
  return name;
}

/** In the background: the namespace controller finishes it. */
export async function deleteNamespace(name: string): Promise<void> {
  if (name !== '') await kubectl(['delete', 'namespace', name, '--wait=false'], { check: false });
}

export async function apply(namespace: string, objects: object[]): Promise<void> {
  await kubectl(['-n', namespace, 'apply', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
  });
}

export async function waitReady(namespace: string, ...pods: string[]): Promise<void> {
  await kubectl(
    ['-n', namespace, 'wait', '--for=condition=Ready', '--timeout=300s', ...pods.map((p) => `pod/${p}`)],
    { timeoutMs: 320_000 },
  );
}

export async function exec(namespace: string, podName: string, command: string[]) {
  return kubectl(['-n', namespace, 'exec', podName, '--', ...command], { check: false, timeoutMs: 60_000 });
}

/** What `from` reads from host:port (nc with a 4 s connect timeout), or undefined if it cannot connect. */
export async function reach(
  namespace: string,
  from: string,
  host: string,
  port: number,
): Promise<string | undefined> {
  const result = await exec(namespace, from, ['nc', '-w', '4', host, String(port)]);
  return result.exitCode === 0 && result.stdout.trim() !== '' ? result.stdout.trim() : undefined;
}

export async function jsonpath(namespace: string, what: string, path: string): Promise<string> {
  return (await kubectl(['-n', namespace, 'get', what, '-o', `jsonpath=${path}`])).stdout.trim();
}
