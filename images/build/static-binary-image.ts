// The smallest image: one statically linked program and nothing else (a pause container, CoreDNS).
import type { ImageConfig } from './image-metadata.ts';
import { writeImageArchive, type BuiltImage } from './oci-archive.ts';

export interface StaticBinaryImage {
  /** e.g. 'localhost/mtopo/pause:3.10'. */
  readonly name: string;
  /** The binary on this machine. */
  readonly binary: string;
  /** Where it lives in the image; default '/' + its file name. */
  readonly path?: string;
  /** Arguments after the binary in the entrypoint. */
  readonly args?: readonly string[];
  /** Default '65532:65532' (non-root, the "nonroot" of distroless images). */
  readonly user?: string;
  readonly env?: ImageConfig['env'];
  readonly exposedPorts?: ImageConfig['exposedPorts'];
  readonly labels?: ImageConfig['labels'];
}

/** One call: writes the image archive for one static binary. */
export function writeStaticBinaryImage(image: StaticBinaryImage, archive: string): Promise<BuiltImage> {
  const path = image.path ?? `/${image.binary.slice(image.binary.lastIndexOf('/') + 1)}`;
  return writeImageArchive(
    {
      name: image.name,
      layers: [[{ type: 'file', path, source: image.binary, mode: 0o755 }]],
      config: {
        entrypoint: [path, ...(image.args ?? [])],
        user: image.user ?? '65532:65532',
        ...(image.env ? { env: image.env } : {}),
        ...(image.exposedPorts ? { exposedPorts: image.exposedPorts } : {}),
        ...(image.labels ? { labels: image.labels } : {}),
      },
    },
    archive,
  );
}
