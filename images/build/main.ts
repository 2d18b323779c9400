// `make images`: builds every image (or those named) into out/images/<id>.tar and prints each
// name with its image ID; with --import SOCKET, imports them into that containerd.
//   node images/build/main.ts [--out DIR] [--import SOCKET] [--ctr PATH] [ID…]
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { imageSpec, RECIPES } from './catalogue.ts';
import { importImage } from './ctr-import.ts';
import { writeImageArchive } from './oci-archive.ts';

const ROOT = resolve(import.meta.dirname, '../..');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: 'string', default: resolve(ROOT, 'out/images') },
    import: { type: 'string' },
    ctr: { type: 'string', default: 'ctr' },
  },
});

const ids = positionals.length > 0 ? positionals : RECIPES.map((recipe) => recipe.id);
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
try {
  for (const id of ids) {
    const started = Date.now();
    const built = await writeImageArchive(imageSpec(ROOT, id), resolve(values.out, `${id}.tar`));
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    process.stdout.write(
      `${built.name}  ${built.imageId}  ${mib(built.size)}  ${seconds}s  ${built.archive}\n`,
    );
    if (values.import) {
      await importImage(built.archive, built.name, { address: values.import, ctr: values.ctr });
      process.stdout.write(`  imported into ${values.import}\n`);
    }
  }
} catch (error) {
  process.stderr.write(`images: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
