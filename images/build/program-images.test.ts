import assert from 'node:assert/strict';
import { dirname, posix } from 'node:path';
import { describe, test } from 'node:test';
import { runtimeImports } from './program-closure.ts';
import { PROGRAM_IMAGES, programConfig, programLayer } from './program-images.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

describe('the program layers ship JavaScript that needs no type stripper', () => {
  for (const image of PROGRAM_IMAGES) {
    test(`${image.id}: no .ts source, the entrypoint is in the layer, every relative import resolves in it`, () => {
      const files = new Map<string, string | undefined>();
      for (const entry of programLayer(ROOT, image, '0.0.0-test'))
        if (entry.type === 'file')
          files.set(entry.path, 'content' in entry ? String(entry.content) : undefined);
      // Packages may carry .ts files (sources, typings' tests) that Node never loads from node_modules.
      const typescript = [...files.keys()].filter(
        (path) => /\.[cm]?ts$/.test(path) && !path.includes('/node_modules/'),
      );
      assert.deepEqual(typescript, []);
      const entrypoint = programConfig(image).entrypoint?.at(-1) ?? '';
      assert.match(entrypoint, /\.js$/);
      assert.ok(files.has(entrypoint), `${entrypoint} is in the layer`);
      for (const [path, content] of files) {
        // The compiled sources are the entries with content; packages are copied from disk.
        if (content === undefined || !path.endsWith('.js')) continue;
        for (const specifier of runtimeImports(path, content).filter((s) => s.startsWith('.')))
          assert.ok(
            files.has(posix.join(dirname(path), specifier)),
            `${path} imports ${specifier}, which the layer holds`,
          );
      }
    });
  }
});
