// The pod every tier runs: one container of one program, locked down the way the restricted Pod
// Security Standard asks (non-root, read-only root filesystem, no capabilities, no privilege
// escalation, RuntimeDefault seccomp), with its config, certificate and secrets mounted read-only.
import type { V1Container, V1PodTemplateSpec, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { PATHS, PORTS, type PortKey } from '../../../images/lib/contract/ports.ts';
import type { MTARelay } from '../api/mta-relay.ts';
import { ANNOTATION_CONFIG_HASH, componentOf, selectorLabels, tierLabels } from './labels.ts';
import { imageFor } from './images.ts';
import { internalSecretName, tlsSecretName } from './secrets.ts';
import type { Site, Tier } from './site.ts';

/** The uid and gid the images are built with; any non-zero id works with runAsNonRoot. */
export const RUN_AS = 10001;

export interface PodTemplateInput {
  readonly tier: Tier;
  readonly configMapName: string;
  readonly configHash: string;
  readonly ports: readonly PortKey[];
  readonly image: string | undefined;
  readonly resources: MTARelay['spec']['resources'];
  /** A claim template's name, mounted at the program's data path (spool or mailboxes). */
  readonly dataVolume?: { name: string; mountPath: string };
  readonly needsDirectory: boolean;
  readonly needsInternalSecret: boolean;
  readonly smarthostSecret?: string;
}

/**
 * The MMP's memory settings, measured in bench/mmp (docs/performance.md, "MMP", third round): it
 * holds thousands of idle sessions, so what it keeps after a burst matters. glibc gives each thread
 * that mallocs its own arena (libuv's pool, V8's helpers), fragmented and never given back; V8's young
 * generation grows to three 16 MiB semi-spaces under load and keeps them. Two arenas and 4 MiB
 * semi-spaces took the RSS with 9,900 idle sessions from 361 to 233 MiB at the same CPU per login and
 * per GiB; 2 MiB semi-spaces saved no more and cost a third more CPU.
 */
export const MMP_ENV = [
  { name: 'MALLOC_ARENA_MAX', value: '2' },
  { name: 'NODE_OPTIONS', value: '--max-semi-space-size=4' },
] as const;

const DEFAULT_RESOURCES = { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } };

function volumes(site: Site, input: PodTemplateInput): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const directory = site.topology.spec.directory;
  const out: { volumes: V1Volume[]; mounts: V1VolumeMount[] } = {
    volumes: [
      { name: 'config', configMap: { name: input.configMapName } },
      { name: 'tls', secret: { secretName: tlsSecretName(site), defaultMode: 0o440 } },
      { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
    ],
    mounts: [
      { name: 'config', mountPath: PATHS.config.slice(0, PATHS.config.lastIndexOf('/')), readOnly: true },
      { name: 'tls', mountPath: PATHS.tlsDir, readOnly: true },
      { name: 'tmp', mountPath: PATHS.tmp },
    ],
  };
  if (input.needsDirectory) {
    out.volumes.push({
      name: 'directory',
      secret: {
        secretName: directory.bindSecretRef.name,
        defaultMode: 0o440,
        items: [
          { key: directory.bindSecretRef.bindDNKey, path: 'bindDN' },
          { key: directory.bindSecretRef.passwordKey, path: 'password' },
        ],
      },
    });
    out.mounts.push({ name: 'directory', mountPath: PATHS.directorySecretDir, readOnly: true });
    if (directory.caSecretRef) {
      out.volumes.push({
        name: 'directory-ca',
        secret: {
          secretName: directory.caSecretRef.name,
          defaultMode: 0o440,
          items: [{ key: 'ca.crt', path: 'ca.crt' }],
        },
      });
      out.mounts.push({ name: 'directory-ca', mountPath: PATHS.directoryCaDir, readOnly: true });
    }
  }
  if (input.needsInternalSecret) {
    out.volumes.push({
      name: 'internal',
      secret: { secretName: internalSecretName(site), defaultMode: 0o440 },
    });
    out.mounts.push({ name: 'internal', mountPath: PATHS.internalSecretDir, readOnly: true });
  }
  if (input.smarthostSecret) {
    out.volumes.push({
      name: 'smarthost',
      secret: { secretName: input.smarthostSecret, defaultMode: 0o440 },
    });
    out.mounts.push({ name: 'smarthost', mountPath: PATHS.smarthostSecretDir, readOnly: true });
  }
  if (input.dataVolume)
    out.mounts.push({ name: input.dataVolume.name, mountPath: input.dataVolume.mountPath });
  return out;
}

export function podTemplate(site: Site, input: PodTemplateInput): V1PodTemplateSpec {
  const { tier } = input;
  const { volumes: podVolumes, mounts } = volumes(site, input);
  const probe = (path: string, failureThreshold: number) => ({
    httpGet: { path, port: PORTS.http.name },
    periodSeconds: 10,
    timeoutSeconds: 3,
    failureThreshold,
  });
  const container: V1Container = {
    name: componentOf(tier.role),
    image: imageFor(site, tier.role, input.image),
    imagePullPolicy: site.topology.spec.images.pullPolicy,
    args: ['--config', PATHS.config],
    env: [
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      ...(tier.role === 'mmp' ? MMP_ENV : []),
    ],
    ports: [...input.ports, 'http' as const].map((key) => ({
      name: PORTS[key].name,
      containerPort: PORTS[key].container,
      protocol: 'TCP',
    })),
    // Defaults only when the user sets nothing: mixing theirs with ours could put a request above a limit.
    resources: input.resources ?? DEFAULT_RESOURCES,
    startupProbe: probe('/healthz', 30),
    livenessProbe: probe('/healthz', 3),
    readinessProbe: probe('/readyz', 2),
    securityContext: {
      runAsNonRoot: true,
      runAsUser: RUN_AS,
      runAsGroup: RUN_AS,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    volumeMounts: mounts,
  };
  return {
    metadata: { labels: tierLabels(site, tier), annotations: { [ANNOTATION_CONFIG_HASH]: input.configHash } },
    spec: {
      serviceAccountName: tier.name,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      // The programs drain for 25 seconds on SIGTERM (common.drainSeconds); leave them room.
      terminationGracePeriodSeconds: 30,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: RUN_AS,
        runAsGroup: RUN_AS,
        fsGroup: RUN_AS,
        fsGroupChangePolicy: 'OnRootMismatch',
        seccompProfile: { type: 'RuntimeDefault' },
      },
      topologySpreadConstraints: [
        {
          maxSkew: 1,
          topologyKey: 'kubernetes.io/hostname',
          whenUnsatisfiable: 'ScheduleAnyway',
          labelSelector: { matchLabels: selectorLabels(site, tier) },
        },
      ],
      containers: [container],
      volumes: podVolumes,
    },
  };
}
