// Files taken from this machine into an image: programs, the shared libraries `ldd` says they load,
// and package files. Debian merged /usr (/lib → usr/lib, /bin → usr/bin), so every path is placed
// at its real location and the image gets the same four top-level symlinks; a library is placed
// under the name the loader looks for (its soname, e.g. libc.so.6) with the real file's content.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { LayerEntry } from './layer-entries.ts';

/** The libraries one `ldd` report names, as the paths it resolved them to. */
export function parseLdd(report: string, program: string): string[] {
  const paths: string[] = [];
  for (const raw of report.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('linux-vdso') || line === 'statically linked') continue;
    if (line.includes('=> not found'))
      throw new Error(`${program} needs ${line.split(' ')[0]}, which this machine does not have`);
    const resolved = /=>\s+(\/\S+)/.exec(line)?.[1] ?? /^(\/\S+)\s+\(0x/.exec(line)?.[1];
    if (resolved) paths.push(resolved);
  }
  return paths;
}

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

function isElf(path: string): boolean {
  if (!statSync(path).isFile()) return false;
  const fd = openSync(path, 'r');
  try {
    const magic = Buffer.alloc(4);
    return readSync(fd, magic, 0, 4, 0) === 4 && magic.equals(ELF_MAGIC);
  } finally {
    closeSync(fd);
  }
}

/** Every shared library the ELF files among `paths` load, directly or not (ldd follows the chain). */
export function sharedLibraries(paths: readonly string[]): string[] {
  const libraries = new Set<string>();
  for (const path of paths) {
    if (!isElf(path)) continue;
    let report: string;
    try {
      report = execFileSync('ldd', [path], { encoding: 'utf8' });
    } catch (error) {
      const stdout = (error as { stdout?: string }).stdout ?? '';
      // "not a dynamic executable": a static binary or an ELF object ldd cannot load; nothing to add.
      if (stdout.includes('not a dynamic executable') || stdout === '') continue;
      report = stdout;
    }
    for (const library of parseLdd(report, path)) libraries.add(library);
  }
  return [...libraries].sort();
}

/** Where a host path lives once /usr is merged: its directory resolved, its own name kept. */
export function imagePath(hostPath: string): string {
  return join(realpathSync(dirname(hostPath)), basename(hostPath));
}

export const MERGED_USR: readonly LayerEntry[] = [
  { type: 'symlink', path: '/bin', target: 'usr/bin' },
  { type: 'symlink', path: '/lib', target: 'usr/lib' },
  { type: 'symlink', path: '/lib64', target: 'usr/lib64' },
  { type: 'symlink', path: '/sbin', target: 'usr/sbin' },
];

/**
 * Entries copying host files (and, for ELF files, the libraries they load) into the image at the
 * same paths. Symlinks among them become files with their target's content.
 */
export function hostFileEntries(
  paths: readonly string[],
  options: { withLibraries?: boolean } = {},
): LayerEntry[] {
  const entries = new Map<string, LayerEntry>();
  const all = options.withLibraries === false ? paths : [...paths, ...sharedLibraries(paths)];
  for (const path of all) {
    const target = imagePath(path);
    if (entries.has(target)) continue;
    const info = statSync(path);
    if (info.isDirectory())
      entries.set(target, { type: 'directory', path: target, mode: info.mode & 0o7777 });
    else
      entries.set(target, {
        type: 'file',
        path: target,
        source: realpathSync(path),
        mode: info.mode & 0o7777,
      });
  }
  return [...entries.values()];
}
