// Which image each program runs. The renderer never invents a tag: an image the topology does not
// name (spec.images) is the operator's default for that program, given by its flags or chart values
// (--default-image-mta …, so a site runs the images of the operator's own release), or else the one
// published with this version of the operator.
import { image } from '../api/common.ts';
import type { Site, TierRole } from './site.ts';
import { componentOf } from './labels.ts';

export const RELEASE_VERSION = '0.1.0';
export const IMAGE_REGISTRY = 'docker.io/mtopo';

export const PROGRAMS = ['mta', 'store', 'mmp'] as const;
export type Program = (typeof PROGRAMS)[number];

/** The operator's default image per program; a program left out gets the release's published one. */
export type DefaultImages = Partial<Record<Program, string>>;

/**
 * The flags that name them, the operator's and `mtopo render`'s alike, so rendered output can match
 * an operator whose chart sets other images (charts/mtopo values `images.*`).
 */
export const DEFAULT_IMAGE_OPTIONS = {
  'default-image-mta': { type: 'string' },
  'default-image-store': { type: 'string' },
  'default-image-mmp': { type: 'string' },
} as const;

/** The --default-image-PROGRAM flags that were given, each checked to be an image reference. */
export function defaultImagesFrom(
  flags: Partial<Record<keyof typeof DEFAULT_IMAGE_OPTIONS, string | undefined>>,
): { images: DefaultImages; problems: string[] } {
  const images: DefaultImages = {};
  const problems: string[] = [];
  for (const program of PROGRAMS) {
    const value = flags[`default-image-${program}`];
    if (value === undefined || value === '') continue;
    const checked = image.safeParse(value);
    if (checked.success) images[program] = value;
    else
      problems.push(
        `--default-image-${program}: ${JSON.stringify(value)} ${checked.error.issues[0]?.message ?? 'is invalid'} (such as "${IMAGE_REGISTRY}/${program}:${RELEASE_VERSION}")`,
      );
  }
  return { images, problems };
}

export function imageFor(site: Site, role: TierRole, override: string | undefined): string {
  const program = componentOf(role) as Program;
  return (
    override ??
    site.topology.spec.images[program] ??
    site.defaultImages?.[program] ??
    `${IMAGE_REGISTRY}/${program}:${RELEASE_VERSION}`
  );
}
