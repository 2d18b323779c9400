// The programs that hold thousands of idle sessions check their config in a child
// (images/lib/load-config.ts), so zod and the schemas must not load with their own modules: one
// import of a schema from a module they reach would bring 4 MiB back into every replica, silently.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { programClosure } from './program-closure.ts';
import { programImage } from './program-images.ts';

const ROOT = join(import.meta.dirname, '../..');

describe('what the MMP and the store load at start', () => {
  for (const [program, schema] of [
    ['mmp', 'images/lib/contract/mmp.ts'],
    ['store', 'images/lib/contract/store.ts'],
  ] as const) {
    it(`${program}: no zod and no config schema, though its image ships them for --check-config`, () => {
      const { main } = programImage(program);
      const atStart = programClosure(ROOT, main, { staticOnly: true });
      assert.ok(atStart.sourceFiles.length > 20, 'the closure is the program, not its entry alone');
      assert.ok(!atStart.packageDirs.includes('node_modules/zod'), atStart.packageDirs.join(' '));
      assert.ok(!atStart.sourceFiles.includes(schema));
      const shipped = programClosure(ROOT, main);
      assert.ok(shipped.packageDirs.includes('node_modules/zod'));
      assert.ok(shipped.sourceFiles.includes(schema));
    });
  }
});
