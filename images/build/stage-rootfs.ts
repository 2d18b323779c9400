// Writes an image's files into a folder instead of an archive: the build stage of every Dockerfile
// here runs it (`node images/build/stage-rootfs.ts mta /rootfs`) and copies the folder into a
// `FROM scratch` image, so Docker, Podman or Buildah users get the layout `make images` writes.
//   node images/build/stage-rootfs.ts ID DIR
import {
  chmodSync,
  copyFileSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { imageSpec } from './catalogue.ts';
import { canonicalLayer, type LayerEntry } from './layer-entries.ts';
import { sourceMode } from './oci-archive.ts';

/** Applies the layers in order into `dir` (a later layer's entry replaces an earlier one's). */
export function stageRootfs(layers: readonly (readonly LayerEntry[])[], dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const layer of layers) {
    for (const entry of canonicalLayer(layer)) {
      const target = join(dir, entry.name);
      const existing = lstatSync(target, { throwIfNoEntry: false });
      if (existing && !(existing.isDirectory() && entry.type === 'directory'))
        rmSync(target, { recursive: true });
      // Root owns everything, as in the archive (a copy may keep its source's group: postdrop's).
      // chown before chmod: chown clears setuid and setgid bits.
      switch (entry.type) {
        case 'directory':
          mkdirSync(target, { recursive: true });
          lchownSync(target, 0, 0);
          chmodSync(target, entry.mode);
          break;
        case 'symlink':
          symlinkSync(entry.target, target);
          lchownSync(target, 0, 0);
          break;
        case 'file':
          if ('source' in entry) copyFileSync(entry.source, target);
          else writeFileSync(target, entry.content);
          lchownSync(target, 0, 0);
          chmodSync(target, 'source' in entry ? sourceMode(entry) : entry.mode);
          break;
      }
    }
  }
}

if (import.meta.main) {
  const [id, dir] = process.argv.slice(2);
  if (!id || !dir) {
    process.stderr.write('usage: node images/build/stage-rootfs.ts ID DIR\n');
    process.exit(2);
  }
  try {
    stageRootfs(imageSpec(resolve(import.meta.dirname, '../..'), id).layers, resolve(dir));
  } catch (error) {
    process.stderr.write(`stage-rootfs: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
