// `make crds`: writes what is derived from the zod schemas — one CustomResourceDefinition per kind
// in crds/, and docs/api.md. No kustomization.yaml: `kubectl apply -f crds/` would try to apply it
// as an object and fail.
//
//   node operator/src/api/generate.ts           write the files
//   node operator/src/api/generate.ts --check   write nothing; exit 1 naming each stale file
//   … --root DIR                                 the same for another checkout
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dump } from 'js-yaml';
import { GENERATED_NOTICE, renderApiDocs } from './api-docs.ts';
import { renderCustomResourceDefinition } from './crd.ts';
import { GROUP, KINDS, type KindDefinition } from './kinds.ts';

export const REPOSITORY_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const CRD_DIRECTORY = 'crds';
const HEADER = `# ${GENERATED_NOTICE}: the source is the zod schemas in operator/src/api\n`;

export function crdPath(kind: KindDefinition): string {
  return `${CRD_DIRECTORY}/${GROUP}_${kind.plural}.yaml`;
}

function toYaml(value: unknown): string {
  // noRefs: shared objects (the printer columns every kind has) are written out, not anchored.
  return HEADER + dump(value, { noRefs: true, lineWidth: -1 });
}

/** Every generated file, by path relative to the repository root, in a fixed order. */
export function generatedFiles(kinds: readonly KindDefinition[] = KINDS): Map<string, string> {
  const files = new Map<string, string>();
  for (const kind of kinds) files.set(crdPath(kind), toYaml(renderCustomResourceDefinition(kind)));
  files.set('docs/api.md', renderApiDocs(kinds));
  return files;
}

/**
 * Files in crds/ that nothing generates (a renamed plural leaves one behind). crds/ holds generated
 * files only, so that `kubectl apply -f crds/` applies exactly the CRDs.
 */
function leftoverCrds(root: string, files: Map<string, string>): string[] {
  const directory = join(root, CRD_DIRECTORY);
  if (!existsSync(directory)) return [];
  return readdirSync(directory)
    .map((name) => `${CRD_DIRECTORY}/${name}`)
    .filter((path) => !files.has(path))
    .sort();
}

export interface StaleFile {
  path: string;
  why: 'missing' | 'differs' | 'not generated';
}

/** The files on disk that differ from what would be generated now. */
export function staleFiles(root: string = REPOSITORY_ROOT, files = generatedFiles()): StaleFile[] {
  const stale: StaleFile[] = [];
  for (const [path, content] of files) {
    const full = join(root, path);
    if (!existsSync(full)) stale.push({ path, why: 'missing' });
    else if (readFileSync(full, 'utf8') !== content) stale.push({ path, why: 'differs' });
  }
  for (const path of leftoverCrds(root, files)) stale.push({ path, why: 'not generated' });
  return stale;
}

export function writeGeneratedFiles(root: string = REPOSITORY_ROOT, files = generatedFiles()): string[] {
  const written: string[] = [];
  for (const [path, content] of files) {
    const full = join(root, path);
    if (existsSync(full) && readFileSync(full, 'utf8') === content) continue;
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
    written.push(path);
  }
  for (const path of leftoverCrds(root, files)) {
    rmSync(join(root, path));
    written.push(`${path} (removed)`);
  }
  return written;
}

function main(args: readonly string[]): number {
  // --root DIR: another checkout (the tests point it at a scratch copy).
  const rootAt = args.indexOf('--root');
  const root = rootAt >= 0 && args[rootAt + 1] ? args[rootAt + 1] : REPOSITORY_ROOT;
  if (args.includes('--check')) {
    const stale = staleFiles(root);
    if (stale.length === 0) return 0;
    for (const file of stale) console.error(`stale: ${file.path} (${file.why})`);
    console.error('run `make crds` and commit the result');
    return 1;
  }
  const written = writeGeneratedFiles(root);
  console.log(written.length > 0 ? `wrote ${written.join(', ')}` : 'crds/ and docs/api.md are up to date');
  return 0;
}

if (import.meta.main) process.exitCode = main(process.argv.slice(2));
