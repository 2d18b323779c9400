// Reading the user's files: multi-document YAML in, typed resources grouped by topology out, with
// every problem named by file, object and field.
import { readFileSync } from 'node:fs';
import { loadAll } from 'js-yaml';
import type { MessagingTopology } from '../api/messaging-topology.ts';
import type { MMPPool } from '../api/mmp-pool.ts';
import type { MTARelay } from '../api/mta-relay.ts';
import { parseResource, type Problem, type Resource } from '../api/parse.ts';
import type { RenderInput } from '../render/render.ts';

export interface FileProblem extends Problem {
  file: string;
}

export interface LoadedSites {
  inputs: RenderInput[];
  problems: FileProblem[];
}

export function parseDocuments(
  text: string,
  file: string,
): { resources: Resource[]; problems: FileProblem[] } {
  const resources: Resource[] = [];
  const problems: FileProblem[] = [];
  let docs: unknown[];
  try {
    docs = loadAll(text).filter((d) => d !== null && d !== undefined);
  } catch (error) {
    return {
      resources,
      problems: [{ file, object: '(file)', field: '(yaml)', message: (error as Error).message }],
    };
  }
  docs.forEach((doc, index) => {
    const result = parseResource(doc, index);
    if (result.ok) resources.push(result.resource);
    else problems.push(...result.problems.map((p) => ({ ...p, file })));
  });
  return { resources, problems };
}

const key = (namespace: string | undefined, name: string) => `${namespace ?? 'default'}/${name}`;

/** Attaches relays and pools to their topology; one that names a topology not in the input is a problem. */
export function groupBySite(resources: readonly Resource[], file = '(input)'): LoadedSites {
  const topologies = resources.filter((r): r is MessagingTopology => r.kind === 'MessagingTopology');
  const relays = resources.filter((r): r is MTARelay => r.kind === 'MTARelay');
  const pools = resources.filter((r): r is MMPPool => r.kind === 'MMPPool');
  const known = new Set(topologies.map((t) => key(t.metadata.namespace, t.metadata.name)));
  const problems: FileProblem[] = [];
  const seen = new Set<string>();
  for (const r of resources) {
    const id = `${r.kind}/${key(r.metadata.namespace, r.metadata.name)}`;
    if (seen.has(id))
      problems.push({
        file,
        object: `${r.kind}/${r.metadata.name}`,
        field: 'metadata.name',
        message: 'appears twice',
      });
    seen.add(id);
  }
  for (const r of [...relays, ...pools]) {
    if (!known.has(key(r.metadata.namespace, r.spec.topologyRef.name))) {
      problems.push({
        file,
        object: `${r.kind}/${r.metadata.name}`,
        field: 'spec.topologyRef.name',
        message: `names MessagingTopology "${r.spec.topologyRef.name}", which is not in the input (same namespace required)`,
      });
    }
  }
  const inputs = topologies.map((topology) => {
    const mine = (r: MTARelay | MMPPool) =>
      r.spec.topologyRef.name === topology.metadata.name &&
      r.metadata.namespace === topology.metadata.namespace;
    return { topology, relays: relays.filter(mine), pools: pools.filter(mine) };
  });
  return { inputs, problems };
}

export function loadFiles(files: readonly string[], readStdin: () => string): LoadedSites {
  const resources: Resource[] = [];
  const problems: FileProblem[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = file === '-' ? readStdin() : readFileSync(file, 'utf8');
    } catch (error) {
      problems.push({ file, object: '(file)', field: '(file)', message: (error as Error).message });
      continue;
    }
    const parsed = parseDocuments(text, file);
    resources.push(...parsed.resources);
    problems.push(...parsed.problems);
  }
  const grouped = groupBySite(resources, files.join(','));
  return { inputs: grouped.inputs, problems: [...problems, ...grouped.problems] };
}

export function formatProblem(p: FileProblem): string {
  return `${p.file}: ${p.object}: ${p.field}: ${p.message}`;
}
