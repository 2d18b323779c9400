// Files the repository derives from code (CRDs, API docs, the chart's RBAC and CRD copies): written
// by `make crds`, checked by tests and `--check`. A folder that holds only generated files is
// "owned": anything in it that nothing generates any more is stale too, and is removed on write.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface GeneratedSet {
  /** Path relative to the repository root → content, in a fixed order. */
  readonly files: ReadonlyMap<string, string>;
  /** Folders that hold generated files only. */
  readonly ownedDirectories: readonly string[];
}

export interface StaleFile {
  path: string;
  why: 'missing' | 'differs' | 'not generated';
}

function leftovers(root: string, set: GeneratedSet): string[] {
  return set.ownedDirectories.flatMap((directory) => {
    const full = join(root, directory);
    if (!existsSync(full)) return [];
    return readdirSync(full)
      .map((name) => `${directory}/${name}`)
      .filter((path) => !set.files.has(path))
      .sort();
  });
}

/** The files on disk that differ from what would be generated now. */
export function staleFilesOf(root: string, set: GeneratedSet): StaleFile[] {
  const stale: StaleFile[] = [];
  for (const [path, content] of set.files) {
    const full = join(root, path);
    if (!existsSync(full)) stale.push({ path, why: 'missing' });
    else if (readFileSync(full, 'utf8') !== content) stale.push({ path, why: 'differs' });
  }
  for (const path of leftovers(root, set)) stale.push({ path, why: 'not generated' });
  return stale;
}

/** Writes what differs and removes leftovers; returns what it touched. */
export function writeFilesOf(root: string, set: GeneratedSet): string[] {
  const written: string[] = [];
  for (const [path, content] of set.files) {
    const full = join(root, path);
    if (existsSync(full) && readFileSync(full, 'utf8') === content) continue;
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
    written.push(path);
  }
  for (const path of leftovers(root, set)) {
    rmSync(join(root, path));
    written.push(`${path} (removed)`);
  }
  return written;
}

/**
 * The command line every generator shares: write, or `--check` (write nothing, exit 1 naming each
 * stale file); `--root DIR` points at another checkout (the tests use a scratch copy).
 */
export function runGenerator(args: readonly string[], what: string, set: () => GeneratedSet): number {
  const rootAt = args.indexOf('--root');
  const root = (rootAt >= 0 ? args[rootAt + 1] : undefined) ?? REPOSITORY_ROOT;
  if (args.includes('--check')) {
    const stale = staleFilesOf(root, set());
    if (stale.length === 0) return 0;
    for (const file of stale) console.error(`stale: ${file.path} (${file.why})`);
    console.error('run `make crds` and commit the result');
    return 1;
  }
  const written = writeFilesOf(root, set());
  console.log(written.length > 0 ? `wrote ${written.join(', ')}` : `${what} up to date`);
  return 0;
}
