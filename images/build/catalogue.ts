// Every image this repository builds: the four programs and the e2e fixtures. A recipe says what
// goes in (layers) and how it runs (config); make images, the Dockerfiles' build stage
// (stage-rootfs.ts) and the tests all read it from here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageConfig } from './image-metadata.ts';
import type { LayerEntry } from './layer-entries.ts';
import type { ImageSpec } from './oci-archive.ts';
import { FIXTURE_IMAGES, fixtureConfig, fixtureLayers } from './fixture-images.ts';
import { PROGRAM_IMAGES, programConfig, programLayers } from './program-images.ts';

export interface ImageRecipe {
  /** localhost/mtopo/<id>:<version> */
  readonly id: string;
  /** Relative to the repository root. */
  readonly dockerfile: string;
  layers(root: string, version: string): LayerEntry[][];
  readonly config: ImageConfig;
}

export const REGISTRY = 'localhost/mtopo';

export const RECIPES: readonly ImageRecipe[] = [
  ...PROGRAM_IMAGES.map((image): ImageRecipe => ({
    id: image.id,
    dockerfile: image.dockerfile,
    layers: (root, version) => programLayers(root, image, version),
    config: programConfig(image),
  })),
  ...FIXTURE_IMAGES.map((image): ImageRecipe => ({
    id: image.id,
    dockerfile: image.dockerfile,
    layers: (root, version) => fixtureLayers(root, image, version),
    config: fixtureConfig(image),
  })),
];

export function recipe(id: string): ImageRecipe {
  const found = RECIPES.find((candidate) => candidate.id === id);
  if (!found) throw new RangeError(`no image named ${id}; known: ${RECIPES.map((r) => r.id).join(', ')}`);
  return found;
}

/** The release version (package.json): the tag of every image, as the operator's defaults expect. */
export function releaseVersion(root: string): string {
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

export function imageName(id: string, version: string): string {
  return `${REGISTRY}/${id}:${version}`;
}

export function imageSpec(root: string, id: string, version = releaseVersion(root)): ImageSpec {
  const found = recipe(id);
  return { name: imageName(id, version), layers: found.layers(root, version), config: found.config };
}
