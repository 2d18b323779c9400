// Default images of this release. The renderer never invents a tag: an unset image means the one
// built and published with this version of the operator.
import type { Site, TierRole } from './site.ts';
import { componentOf } from './labels.ts';

export const RELEASE_VERSION = '0.1.0';
export const IMAGE_REGISTRY = 'docker.io/mtopo';

export function imageFor(site: Site, role: TierRole, override: string | undefined): string {
  const component = componentOf(role) as 'mta' | 'store' | 'mmp';
  return (
    override ?? site.topology.spec.images[component] ?? `${IMAGE_REGISTRY}/${component}:${RELEASE_VERSION}`
  );
}
