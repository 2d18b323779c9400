// The MMP as its image runs it: its sources compiled to JavaScript by the image build's own step
// (images/build/compile-module.ts, Node's type stripper at build time), so the benchmark measures
// neither the stripper's load-time work nor its ~17 MiB (docs/performance.md). The compiled tree
// sits in a scratch folder in the repository's layout, with the repository's node_modules beside
// it, as /opt/mtopo in the image.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { checkPinnedNode, compiledName, compileModule } from '../../images/build/compile-module.ts';
import { programClosure } from '../../images/build/program-closure.ts';
import { programImage } from '../../images/build/program-images.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/** Writes the MMP's compiled closure under `dir` and returns the path of its main.js. */
export function compileMmp(dir: string): string {
  checkPinnedNode(ROOT);
  const image = programImage('mmp');
  for (const file of programClosure(ROOT, image.main).sourceFiles) {
    const target = join(dir, compiledName(file));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, compileModule(file, readFileSync(join(ROOT, file), 'utf8')));
  }
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ type: 'module', private: true })}\n`);
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return join(dir, compiledName(image.main));
}
