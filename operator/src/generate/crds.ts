// What is derived from the zod schemas: one CustomResourceDefinition per kind in crds/, and
// docs/api.md. No kustomization.yaml: `kubectl apply -f crds/` would try to apply it as an object
// and fail. Written by `make crds` (main.ts).
import { dump } from 'js-yaml';
import { renderCustomResourceDefinition } from '../api/crd.ts';
import { GROUP, KINDS, type KindDefinition } from '../api/kinds.ts';
import { renderApiDocs } from './api-docs.ts';
import { GENERATED_NOTICE, type GeneratedSet } from './generated-files.ts';

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

/** The generated set: crds/ is owned, so `kubectl apply -f crds/` applies exactly the CRDs. */
export function crdSet(files = generatedFiles()): GeneratedSet {
  return { files, ownedDirectories: [CRD_DIRECTORY] };
}
