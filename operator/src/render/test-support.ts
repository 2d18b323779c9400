// Loading the examples for tests: the same path the CLI takes, from file to render input.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { groupBySite, parseDocuments } from '../cli/manifests.ts';
import type { RenderInput } from './render.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const EXAMPLES = ['siroe', 'minimal'] as const;

export function loadExample(name: string): RenderInput {
  return loadManifest(readFileSync(`${REPO_ROOT}examples/${name}.yaml`, 'utf8'), name);
}

export function loadManifest(text: string, label = 'test'): RenderInput {
  const { resources, problems } = parseDocuments(text, label);
  if (problems.length > 0) throw new Error(`${label}: ${JSON.stringify(problems)}`);
  const { inputs, problems: grouping } = groupBySite(resources);
  if (grouping.length > 0 || inputs.length !== 1) throw new Error(`${label}: ${JSON.stringify(grouping)}`);
  return inputs[0] as RenderInput;
}
