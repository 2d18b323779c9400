// What goes into one layer, and the canonical order it is written in. Pure: the same list, in any
// order, gives the same layer, so the image's digest depends on the files and not on how a build
// script happened to collect them.

/** A regular file, from bytes in memory or from a file on disk (read when the layer is written). */
export type FileEntry = {
  readonly type: 'file';
  /** Absolute path inside the image, e.g. '/usr/local/bin/node'. */
  readonly path: string;
  /** Permission bits; default 0o644 (0o755 for a `source` that is executable on disk). */
  readonly mode?: number;
} & ({ readonly content: string | Uint8Array } | { readonly source: string });

export interface DirectoryEntry {
  readonly type: 'directory';
  readonly path: string;
  /** Default 0o755. Use 0o1777 for a scratch directory any user may write to. */
  readonly mode?: number;
}

export interface SymlinkEntry {
  readonly type: 'symlink';
  readonly path: string;
  readonly target: string;
}

export type LayerEntry = FileEntry | DirectoryEntry | SymlinkEntry;

/** An entry ready to write: its name as the tar spells it (no leading '/'), everything defaulted. */
export type CanonicalEntry =
  | { type: 'file'; name: string; mode: number; content: Uint8Array }
  | { type: 'file'; name: string; mode: number | undefined; source: string }
  | { type: 'directory'; name: string; mode: number }
  | { type: 'symlink'; name: string; target: string };

export class LayerError extends Error {
  override name = 'LayerError';
}

/** '/usr//lib/' → 'usr/lib'; refuses '..', '.', empty and relative paths. */
export function tarName(path: string): string {
  if (!path.startsWith('/')) throw new LayerError(`image path ${JSON.stringify(path)} must be absolute`);
  const parts = path.split('/').filter((part) => part !== '');
  if (parts.length === 0) throw new LayerError('the image root itself is not an entry');
  for (const part of parts)
    if (part === '.' || part === '..')
      throw new LayerError(`image path ${JSON.stringify(path)} must not contain '.' or '..'`);
  return parts.join('/');
}

function checkMode(mode: number | undefined, path: string): void {
  if (mode !== undefined && (!Number.isInteger(mode) || mode < 0 || mode > 0o7777))
    throw new LayerError(`mode of ${path} must be an integer between 0 and 0o7777, got ${mode}`);
}

function canonical(entry: LayerEntry): CanonicalEntry {
  const name = tarName(entry.path);
  switch (entry.type) {
    case 'directory':
      checkMode(entry.mode, entry.path);
      return { type: 'directory', name, mode: entry.mode ?? 0o755 };
    case 'symlink':
      if (entry.target === '') throw new LayerError(`symlink ${entry.path} has an empty target`);
      return { type: 'symlink', name, target: entry.target };
    case 'file':
      checkMode(entry.mode, entry.path);
      if ('source' in entry) return { type: 'file', name, mode: entry.mode, source: entry.source };
      return {
        type: 'file',
        name,
        mode: entry.mode ?? 0o644,
        content: typeof entry.content === 'string' ? Buffer.from(entry.content) : entry.content,
      };
  }
}

// Byte order, as `sort` in the C locale and every tar tool that sorts: a parent ('a') always comes
// before its children ('a/b'), since a prefix sorts first.
function byName(a: { name: string }, b: { name: string }): number {
  return Buffer.compare(Buffer.from(a.name), Buffer.from(b.name));
}

/**
 * The layer's entries in write order: sorted by name, every parent directory present (added with
 * mode 0o755 when the list leaves it out). Two entries for one path are an error, as is a path
 * below something that is not a directory.
 */
export function canonicalLayer(entries: readonly LayerEntry[]): CanonicalEntry[] {
  const byPath = new Map<string, CanonicalEntry>();
  for (const entry of entries) {
    const item = canonical(entry);
    if (byPath.has(item.name)) throw new LayerError(`the layer lists /${item.name} twice`);
    byPath.set(item.name, item);
  }
  for (const name of [...byPath.keys()]) {
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      const existing = byPath.get(parent);
      if (!existing) byPath.set(parent, { type: 'directory', name: parent, mode: 0o755 });
      else if (existing.type !== 'directory')
        throw new LayerError(`/${name} lies below /${parent}, which is a ${existing.type}, not a directory`);
    }
  }
  return [...byPath.values()].sort(byName);
}
