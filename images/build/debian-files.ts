// Files of installed Debian packages, for the fixture images: what `dpkg -L` lists (less
// documentation and init scripts, which no container runs), symlinks kept as symlinks, plus every
// shared library the package's programs and modules load.
import { execFileSync } from 'node:child_process';
import { lstatSync, readlinkSync } from 'node:fs';
import { hostFileEntries, imagePath } from './host-files.ts';
import type { LayerEntry } from './layer-entries.ts';

const NOT_IN_CONTAINERS =
  /^\/(usr\/share\/(doc|man|lintian|bug|info)|etc\/init\.d|lib\/systemd|usr\/lib\/systemd|etc\/logrotate\.d|etc\/default)(\/|$)/;

export function packagePaths(pkg: string): string[] {
  let listing: string;
  try {
    listing = execFileSync('dpkg', ['-L', pkg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch {
    throw new Error(
      `Debian package ${pkg} is not installed here: apt-get install ${pkg} (testing/peers/install-peers.sh)`,
    );
  }
  return listing
    .split('\n')
    .filter((path) => path.startsWith('/') && path !== '/.' && !NOT_IN_CONTAINERS.test(path));
}

/** The packages' files and the libraries they need, as layer entries at their merged-/usr paths. */
export function debianPackageEntries(packages: readonly string[]): LayerEntry[] {
  const files: string[] = [];
  const links: LayerEntry[] = [];
  for (const pkg of packages)
    for (const path of packagePaths(pkg)) {
      const info = lstatSync(path, { throwIfNoEntry: false });
      if (!info || info.isDirectory()) continue;
      if (info.isSymbolicLink())
        links.push({ type: 'symlink', path: imagePath(path), target: readlinkSync(path) });
      else files.push(path);
    }
  const entries = new Map<string, LayerEntry>();
  for (const entry of [...hostFileEntries(files), ...links])
    if (!entries.has(entry.path)) entries.set(entry.path, entry);
  return [...entries.values()];
}
