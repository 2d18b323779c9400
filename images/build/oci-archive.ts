// Writes an image archive without a container engine: uncompressed layer tars (sorted, mtime 0,
// uid/gid 0), the image config, and both indexes a loader looks for — `manifest.json` as
// `docker save` writes it (what `docker load` and `ctr images import` read) and the OCI layout's
// `index.json` + `oci-layout` (what skopeo, podman and `ctr import` of OCI archives read). Blobs
// live once under blobs/sha256/, as Docker 25+ writes them. Same inputs, same bytes, same digests.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pack as tarPack, type Header, type Pack } from 'tar-stream';

type HeaderArgument = Partial<Header> & Pick<Header, 'name'>;
import { canonicalLayer, type CanonicalEntry, type LayerEntry } from './layer-entries.ts';
import {
  blobPath,
  checkImageName,
  dockerManifestJson,
  imageConfigJson,
  MEDIA_TYPES,
  ociIndexJson,
  ociManifestJson,
  sha256,
  type ImageConfig,
  type LayerDigests,
  type Platform,
} from './image-metadata.ts';

export interface ImageSpec {
  /** Full reference with a tag, e.g. 'localhost/mtopo/mta:0.1.0'. */
  readonly name: string;
  /** Bottom layer first. A layer shared by several images (the Node runtime) is stored once by containerd. */
  readonly layers: readonly (readonly LayerEntry[])[];
  readonly config: ImageConfig;
  /** Default linux/amd64. */
  readonly platform?: Platform;
}

export interface BuiltImage {
  readonly name: string;
  /** Where the archive was written. */
  readonly archive: string;
  /** The image ID: sha256 of the config JSON (what `crictl images` and `docker images` show). */
  readonly imageId: string;
  /** sha256 of the OCI manifest in index.json. */
  readonly manifestDigest: string;
  /** sha256 of the whole archive file. */
  readonly archiveDigest: string;
  readonly diffIds: readonly string[];
  /** Bytes of the archive (the layers uncompressed). */
  readonly size: number;
}

const EPOCH = new Date(0);
const LINUX_AMD64: Platform = { os: 'linux', architecture: 'amd64' };

function header(name: string, rest: Partial<HeaderArgument>): HeaderArgument {
  return { name, mtime: EPOCH, uid: 0, gid: 0, uname: '', gname: '', ...rest };
}

/** Adds one entry, streaming `body` (bytes or a file) into it; resolves when tar-stream took all of it. */
async function addEntry(pack: Pack, head: HeaderArgument, body?: Uint8Array | string): Promise<void> {
  let entry!: ReturnType<Pack['entry']>;
  const done = new Promise<void>((resolve, reject) => {
    entry = pack.entry(head, (error) => (error ? reject(error) : resolve()));
  });
  if (typeof body === 'string') {
    for await (const chunk of createReadStream(body, { highWaterMark: 1 << 20 }))
      if (!entry.write(chunk as Buffer)) await once(entry, 'drain');
    entry.end(undefined);
  } else if (body !== undefined) entry.end(body);
  else entry.end(undefined);
  await done;
}

/** Runs `produce` against a fresh tar stream and writes the stream to `path`, hashing on the way. */
async function writeTar(
  path: string,
  produce: (pack: Pack) => Promise<void>,
): Promise<{ digest: string; size: number }> {
  const pack = tarPack();
  const hash = createHash('sha256');
  let size = 0;
  const written = pipeline(
    pack,
    async function* (source: Pack) {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        hash.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    },
    createWriteStream(path),
  );
  try {
    await produce(pack);
    pack.finalize();
  } catch (error) {
    pack.destroy(error as Error);
    await written.catch(() => undefined);
    throw error;
  }
  await written;
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

function sourceMode(entry: { mode: number | undefined; source: string }): number {
  if (entry.mode !== undefined) return entry.mode;
  return statSync(entry.source).mode & 0o111 ? 0o755 : 0o644;
}

async function writeLayer(path: string, entries: readonly CanonicalEntry[]): Promise<LayerDigests> {
  const { digest, size } = await writeTar(path, async (pack) => {
    for (const entry of entries) {
      switch (entry.type) {
        case 'directory':
          await addEntry(pack, header(`${entry.name}/`, { type: 'directory', mode: entry.mode }));
          break;
        case 'symlink':
          await addEntry(pack, header(entry.name, { type: 'symlink', linkname: entry.target, mode: 0o777 }));
          break;
        case 'file':
          if ('source' in entry) {
            const info = await stat(entry.source);
            if (!info.isFile()) throw new Error(`${entry.source} (for /${entry.name}) is not a regular file`);
            await addEntry(
              pack,
              header(entry.name, { type: 'file', mode: sourceMode(entry), size: info.size }),
              entry.source,
            );
          } else {
            await addEntry(
              pack,
              header(entry.name, { type: 'file', mode: entry.mode, size: entry.content.length }),
              entry.content,
            );
          }
          break;
      }
    }
  });
  return { diffId: digest, size };
}

/**
 * Writes the image to `archive` (a tar; parent directories are created) and returns its digests.
 * Layers are staged next to the archive and removed afterwards; the archive appears only complete.
 */
export async function writeImageArchive(spec: ImageSpec, archive: string): Promise<BuiltImage> {
  checkImageName(spec.name);
  if (spec.layers.length === 0) throw new RangeError(`image ${spec.name} has no layers`);
  const platform = spec.platform ?? LINUX_AMD64;
  // Validate every layer before writing anything: a bad path fails fast with the path in the error.
  const canonicalLayers = spec.layers.map((entries) => canonicalLayer(entries));
  await mkdir(dirname(archive), { recursive: true });
  const staging = `${archive}.partial`;
  const layerFiles = canonicalLayers.map((_, i) => `${staging}.layer${i}`);
  try {
    const layers: LayerDigests[] = [];
    for (const [i, entries] of canonicalLayers.entries())
      layers.push(await writeLayer(layerFiles[i]!, entries));
    const config = imageConfigJson(spec.config, platform, layers);
    const configDescriptor = { mediaType: MEDIA_TYPES.config, digest: sha256(config), size: config.length };
    const manifest = ociManifestJson(configDescriptor, layers);
    const manifestDescriptor = {
      mediaType: MEDIA_TYPES.manifest,
      digest: sha256(manifest),
      size: manifest.length,
    };
    const blobs = new Map<string, { bytes?: Buffer; file?: string; size: number }>();
    for (const [i, layer] of layers.entries())
      blobs.set(layer.diffId, { file: layerFiles[i]!, size: layer.size });
    blobs.set(configDescriptor.digest, { bytes: config, size: config.length });
    blobs.set(manifestDescriptor.digest, { bytes: manifest, size: manifest.length });
    const sortedBlobs = [...blobs.entries()].sort(([a], [b]) => (a < b ? -1 : 1));

    const { digest, size } = await writeTar(staging, async (pack) => {
      await addEntry(pack, header('blobs/', { type: 'directory', mode: 0o755 }));
      await addEntry(pack, header('blobs/sha256/', { type: 'directory', mode: 0o755 }));
      for (const [blobDigest, blob] of sortedBlobs)
        await addEntry(
          pack,
          header(blobPath(blobDigest), { type: 'file', mode: 0o644, size: blob.size }),
          blob.bytes ?? blob.file,
        );
      const index = ociIndexJson(manifestDescriptor, spec.name, platform);
      await addEntry(pack, header('index.json', { type: 'file', mode: 0o644, size: index.length }), index);
      const docker = dockerManifestJson(configDescriptor.digest, layers, spec.name);
      await addEntry(
        pack,
        header('manifest.json', { type: 'file', mode: 0o644, size: docker.length }),
        docker,
      );
      const layout = Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' }));
      await addEntry(pack, header('oci-layout', { type: 'file', mode: 0o644, size: layout.length }), layout);
    });
    await rename(staging, archive);
    return {
      name: spec.name,
      archive,
      imageId: configDescriptor.digest,
      manifestDigest: manifestDescriptor.digest,
      archiveDigest: digest,
      diffIds: layers.map((layer) => layer.diffId),
      size,
    };
  } finally {
    await Promise.all([staging, ...layerFiles].map((file) => rm(file, { force: true })));
  }
}
