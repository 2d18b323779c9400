// The JSON documents around the layers: the image config (what a runtime reads: entrypoint, user,
// env, ports, the layers' diff IDs), the OCI manifest and index, and the `docker save` manifest.
// Pure and byte-stable: keys in a fixed order, maps sorted, no timestamps.
import { createHash } from 'node:crypto';

export interface ImageConfig {
  /** The program and its fixed arguments; Kubernetes `command` replaces it, `args` replace `cmd`. */
  readonly entrypoint?: readonly string[];
  readonly cmd?: readonly string[];
  /** Environment; written sorted by name. */
  readonly env?: Readonly<Record<string, string>>;
  /** 'uid:gid' (numeric, so no /etc/passwd lookup decides it), e.g. '10001:10001'. */
  readonly user?: string;
  readonly workingDir?: string;
  /** TCP ports the program listens on (documentation for runtimes; Kubernetes ignores it). */
  readonly exposedPorts?: readonly number[];
  readonly labels?: Readonly<Record<string, string>>;
  /** Signal that asks the program to stop (default SIGTERM). */
  readonly stopSignal?: string;
}

export interface Platform {
  readonly os: 'linux';
  readonly architecture: 'amd64' | 'arm64';
}

export interface LayerDigests {
  /** sha256 of the uncompressed layer tar: what `rootfs.diff_ids` lists. */
  readonly diffId: string;
  readonly size: number;
}

export const MEDIA_TYPES = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
} as const;

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
}

export function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function sortedRecord(record: Readonly<Record<string, string>> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(record ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function checkConfig(config: ImageConfig): void {
  for (const port of config.exposedPorts ?? [])
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new RangeError(`exposed port ${port} is not a TCP port number (1–65535)`);
  for (const name of Object.keys(config.env ?? {}))
    if (name === '' || name.includes('='))
      throw new RangeError(
        `environment variable name ${JSON.stringify(name)} must be non-empty, without '='`,
      );
}

/** The image config JSON (OCI image spec "config", which Docker and containerd read alike). */
export function imageConfigJson(
  config: ImageConfig,
  platform: Platform,
  layers: readonly LayerDigests[],
): Buffer {
  checkConfig(config);
  const env = Object.entries(sortedRecord(config.env)).map(([name, value]) => `${name}=${value}`);
  const ports = [...new Set(config.exposedPorts ?? [])].sort((a, b) => a - b);
  const runtime: Record<string, unknown> = {};
  if (config.user !== undefined) runtime.User = config.user;
  if (ports.length > 0) runtime.ExposedPorts = Object.fromEntries(ports.map((port) => [`${port}/tcp`, {}]));
  if (env.length > 0) runtime.Env = env;
  if (config.entrypoint) runtime.Entrypoint = [...config.entrypoint];
  if (config.cmd) runtime.Cmd = [...config.cmd];
  if (config.workingDir !== undefined) runtime.WorkingDir = config.workingDir;
  if (config.labels && Object.keys(config.labels).length > 0) runtime.Labels = sortedRecord(config.labels);
  if (config.stopSignal !== undefined) runtime.StopSignal = config.stopSignal;
  return Buffer.from(
    JSON.stringify({
      architecture: platform.architecture,
      os: platform.os,
      config: runtime,
      rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.diffId) },
      history: layers.map(() => ({ created_by: 'mtopo images/build' })),
    }),
  );
}

export function ociManifestJson(config: Descriptor, layers: readonly LayerDigests[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.manifest,
      config,
      layers: layers.map((layer) => ({
        mediaType: MEDIA_TYPES.layer,
        digest: layer.diffId,
        size: layer.size,
      })),
    }),
  );
}

/** index.json of the OCI layout; the annotations carry the name for tools that import OCI archives. */
export function ociIndexJson(manifest: Descriptor, name: string, platform: Platform): Buffer {
  const tag = name.slice(name.lastIndexOf(':') + 1);
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.index,
      manifests: [
        {
          ...manifest,
          platform: { architecture: platform.architecture, os: platform.os },
          annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': tag },
        },
      ],
    }),
  );
}

/** manifest.json of `docker save`: what `docker load` and `ctr images import` read first. */
export function dockerManifestJson(
  configDigest: string,
  layers: readonly LayerDigests[],
  name: string,
): Buffer {
  return Buffer.from(
    JSON.stringify([
      {
        Config: blobPath(configDigest),
        RepoTags: [name],
        Layers: layers.map((layer) => blobPath(layer.diffId)),
      },
    ]),
  );
}

export function blobPath(digest: string): string {
  return `blobs/sha256/${digest.replace(/^sha256:/, '')}`;
}

// A reference as `docker tag` accepts it, with a tag: [host[:port]/]path:tag. Digest references
// (@sha256:…) name content, not something to build.
const REFERENCE =
  /^(?:[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export function checkImageName(name: string): void {
  if (!REFERENCE.test(name))
    throw new RangeError(
      `image name ${JSON.stringify(name)} must be a lower-case reference with a tag, e.g. localhost/mtopo/mta:0.1.0`,
    );
}
