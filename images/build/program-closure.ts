// What a program needs at run time and nothing more: the source files its entry point reaches by
// value imports (type-only imports vanish under type stripping, so they pull nothing in), and the
// npm packages those files import, with their own dependencies as npm installed them. Test code
// and devDependencies cannot get in: reaching either is an error that names the importing file.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

export interface ProgramClosure {
  /** Source files, relative to the repository root, sorted. */
  readonly sourceFiles: readonly string[];
  /** Package directories relative to the repository root (node_modules/…), sorted. */
  readonly packageDirs: readonly string[];
}

export class ClosureError extends Error {
  override name = 'ClosureError';
}

const TEST_CODE = /(\.test|\.ptest|\.itest)\.ts$|(^|\/)testing\/|(^|\/)test-support\.ts$/;
const BUILTINS = new Set(builtinModules);

/**
 * The module specifiers a file imports at run time (not `import type`, not `export type`); with
 * `staticOnly`, not `import()` either: what loads with the file, not what may load later.
 */
export function runtimeImports(fileName: string, text: string, staticOnly = false): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const typeOnly =
        clause?.isTypeOnly === true ||
        (clause !== undefined &&
          clause.name === undefined &&
          clause.namedBindings !== undefined &&
          ts.isNamedImports(clause.namedBindings) &&
          clause.namedBindings.elements.length > 0 &&
          clause.namedBindings.elements.every((element) => element.isTypeOnly));
      if (!typeOnly) found.push(node.moduleSpecifier.text);
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      if (!node.isTypeOnly) found.push(node.moduleSpecifier.text);
    } else if (
      !staticOnly &&
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] !== undefined
    ) {
      const argument = node.arguments[0];
      if (!ts.isStringLiteralLike(argument))
        throw new ClosureError(`${fileName}: import() of a computed name cannot be traced; import a literal`);
      found.push(argument.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** 'pino/file' → 'pino'; '@zone-eu/mailsplit/lib/x' → '@zone-eu/mailsplit'. */
export function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || BUILTINS.has(specifier) || BUILTINS.has(packageName(specifier));
}

interface PackageJson {
  readonly name?: string;
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
}

function readPackageJson(dir: string): PackageJson {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
}

/** Node's lookup: the nearest node_modules/NAME from `fromDir` up to the repository root. */
function findPackage(root: string, fromDir: string, name: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root || !dir.startsWith(root)) return undefined;
  }
}

/**
 * The source files and packages `entry` (relative to `root`; several entry points share one closure) needs at run time. `allowTestCode` is
 * for the e2e fixtures, whose launchers reuse the test harness's peer setup.
 */
export function programClosure(
  root: string,
  entry: string | readonly string[],
  options: { allowTestCode?: boolean; staticOnly?: boolean } = {},
): ProgramClosure {
  const rootDir = resolve(root);
  const rootPackage = readPackageJson(rootDir);
  const production = new Set(Object.keys(rootPackage.dependencies ?? {}));
  const sources = new Set<string>();
  const packages = new Set<string>();
  const pendingFiles = (typeof entry === 'string' ? [entry] : entry).map((file) => resolve(rootDir, file));
  const pendingPackages: { name: string; from: string; importer: string }[] = [];

  while (pendingFiles.length > 0) {
    const file = pendingFiles.pop()!;
    const rel = relative(rootDir, file).split(sep).join('/');
    if (sources.has(rel)) continue;
    if (!existsSync(file)) throw new ClosureError(`${rel} is imported but does not exist`);
    if (TEST_CODE.test(rel) && options.allowTestCode !== true)
      throw new ClosureError(`${rel} is test code, yet the program reaches it`);
    sources.add(rel);
    for (const specifier of runtimeImports(rel, readFileSync(file, 'utf8'), options.staticOnly)) {
      if (isBuiltin(specifier)) continue;
      if (specifier.startsWith('.') || specifier.startsWith('/')) {
        pendingFiles.push(resolve(dirname(file), specifier));
        continue;
      }
      const name = packageName(specifier);
      if (!production.has(name))
        throw new ClosureError(
          `${rel} imports ${name}, which is not in package.json "dependencies" (images ship production dependencies only)`,
        );
      pendingPackages.push({ name, from: rootDir, importer: rel });
    }
  }

  while (pendingPackages.length > 0) {
    const { name, from, importer } = pendingPackages.pop()!;
    const dir = findPackage(rootDir, from, name);
    if (!dir) throw new ClosureError(`${name} (needed by ${importer}) is not installed: run make install`);
    const rel = relative(rootDir, dir).split(sep).join('/');
    if (packages.has(rel)) continue;
    packages.add(rel);
    const manifest = readPackageJson(dir);
    for (const dependency of Object.keys(manifest.dependencies ?? {}))
      pendingPackages.push({ name: dependency, from: dir, importer: rel });
    // Optional and peer dependencies go in when npm installed them: the package may load them.
    for (const dependency of [
      ...Object.keys(manifest.optionalDependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
    ])
      if (findPackage(rootDir, dir, dependency))
        pendingPackages.push({ name: dependency, from: dir, importer: rel });
  }
  const sorted = (set: Set<string>): string[] => [...set].sort();
  return { sourceFiles: sorted(sources), packageDirs: sorted(packages) };
}

// Typings, source maps and prose are of no use to a running program.
const NOT_RUNTIME = /\.d\.[cm]?ts$|\.map$|\.md$|\.markdown$/i;

/**
 * A package's files relative to the repository root, leaving out its nested node_modules (those
 * are packages of their own in the closure) and files no program runs.
 */
export function packageFiles(root: string, packageDir: string): string[] {
  const files: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const child = `${rel}/${name}`;
      const info = statSync(join(root, child), { throwIfNoEntry: false });
      if (!info) continue;
      if (info.isDirectory()) {
        if (name !== 'node_modules') walk(child);
      } else if (!NOT_RUNTIME.test(name)) files.push(child);
    }
  };
  walk(packageDir);
  return files;
}
