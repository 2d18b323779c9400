import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CompileError, compiledName, compileModule } from './compile-module.ts';

describe('compileModule', () => {
  const cases: { title: string; source: string; compiled: string }[] = [
    {
      title: 'types are blanked where they stand',
      source: 'const add = (a: number, b: number): number => a + b;\n',
      compiled: 'const add = (a        , b        )         => a + b;\n',
    },
    {
      title: 'a type-only import leaves a blank line; a value import of a .ts file is renamed .js',
      source: "import type { A } from './a.ts';\nimport { b } from './b.ts';\n",
      compiled: `${' '.repeat("import type { A } from './a.ts';".length)}\nimport { b } from './b.js';\n`,
    },
    {
      title: 'side-effect imports, re-exports and import() of literals are renamed',
      source:
        'import "./side.ts";\nexport { c } from "../c.ts";\nexport * from \'./d.ts\';\nawait import(`./e.ts`);\n',
      compiled:
        'import "./side.js";\nexport { c } from "../c.js";\nexport * from \'./d.js\';\nawait import(`./e.js`);\n',
    },
    {
      title: 'packages, built-ins and files that are not .ts keep their names',
      source:
        "import { z } from 'zod';\nimport { join } from 'node:path';\nimport data from './data.json' with { type: 'json' };\n",
      compiled:
        "import { z } from 'zod';\nimport { join } from 'node:path';\nimport data from './data.json' with { type: 'json' };\n",
    },
    {
      title: 'a string that only looks like an import is text, left alone',
      source: 'const note: string = "from \'./x.ts\'";\n',
      compiled: 'const note         = "from \'./x.ts\'";\n',
    },
  ];
  for (const { title, source, compiled } of cases)
    test(title, () => {
      const out = compileModule('case.ts', source);
      assert.equal(out, compiled);
      assert.equal(out.length, source.length, 'every position stays where the source has it');
    });

  test('syntax the stripper cannot erase is an error naming the file', () => {
    assert.throws(
      () => compileModule('images/x/bad.ts', 'enum Colour { Red }\n'),
      (error: Error) => error instanceof CompileError && error.message.startsWith('images/x/bad.ts: '),
    );
  });

  test('an import of .mts, .cts or .tsx is refused rather than left to fail at run time', () => {
    assert.throws(() => compileModule('a.ts', "import { x } from './x.mts';\n"), /imports \.\/x\.mts/);
  });

  test('the same source compiles to the same bytes', () => {
    const source = "import { b } from './b.ts';\nexport const f = (x: string): string => b(x);\n";
    assert.equal(compileModule('f.ts', source), compileModule('f.ts', source));
  });

  test('compiledName', () => {
    assert.equal(compiledName('operator/src/reconcile/main.ts'), 'operator/src/reconcile/main.js');
  });
});
