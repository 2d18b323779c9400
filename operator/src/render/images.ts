// Which image each program runs. The renderer never invents a tag: an image the topology does not
// name (spec.images) is the operator's default for that program, given by its flags or chart values
// (--default-image-mta …, so a site runs the images of the operator's own release), or else the one
// published with this version of the operator.
import type { Site, TierRole } from './site.ts';
import { componentOf } from './labels.ts';

export const RELEASE_VERSION = '0.1.0';
export const IMAGE_REGISTRY = 'docker.io/mtopo';

export const PROGRAMS = ['mta', 'store', 'mmp'] as const;
export type Program = (typeof PROGRAMS)[number];

/** The operator's default image per program; a program left out gets the release's published one. */
export type DefaultImages = Partial<Record<Program, string>>;

export function imageFor(site: Site, role: TierRole, override: string | undefined): string {
  const program = componentOf(role) as Program;
  return (
    override ??
    site.topology.spec.images[program] ??
    site.defaultImages?.[program] ??
    `${IMAGE_REGISTRY}/${program}:${RELEASE_VERSION}`
  );
}
