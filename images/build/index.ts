// The image builder's public surface (docs/images.md shows it in use). Everything else in this
// folder is its inside.
export { writeImageArchive, type BuiltImage, type ImageSpec } from './oci-archive.ts';
export { writeStaticBinaryImage, type StaticBinaryImage } from './static-binary-image.ts';
export { importImage, listImages, tagImage, ImportError, type ContainerdTarget } from './ctr-import.ts';
export type { LayerEntry } from './layer-entries.ts';
export type { ImageConfig, Platform } from './image-metadata.ts';
