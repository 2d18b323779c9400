// The operator as its image runs it: the files of the image's program layer (its sources compiled
// to .js, its packages; images/build/program-images.ts) written into a folder, and the image's
// entrypoint and environment. Measuring `node operator/src/reconcile/main.ts` instead would count
// Node's type stripper, which the image does not load (about 30 MiB).
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { APP_DIR, nodeProgramFiles, programConfig, programImage } from '../../images/build/program-images.ts';

export interface OperatorProgram {
  /** The script node runs (the image's entrypoint, in `dir`). */
  readonly main: string;
  /** The image's environment, less PATH (the host's tools stay reachable). */
  readonly env: Readonly<Record<string, string>>;
}

/** Writes the operator image's program files of the checkout at `root` into `dir`. */
export function stageOperator(root: string, dir: string): OperatorProgram {
  const image = programImage('operator');
  rmSync(dir, { recursive: true, force: true });
  for (const entry of nodeProgramFiles(root, image.id, image.main, '0.0.0-bench', { compile: true })) {
    if (entry.type !== 'file') continue;
    const target = path.join(dir, path.relative(APP_DIR, entry.path));
    mkdirSync(path.dirname(target), { recursive: true });
    if ('source' in entry) copyFileSync(entry.source, target);
    else writeFileSync(target, entry.content);
  }
  const config = programConfig(image);
  const entrypoint = config.entrypoint?.at(-1) ?? '';
  const { PATH: _path, ...env } = config.env ?? {};
  return { main: path.join(dir, path.relative(APP_DIR, entrypoint)), env };
}
