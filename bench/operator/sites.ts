// The sites the benchmark deploys: examples/minimal.yaml (one MessagingTopology, three MTARelays,
// one MMPPool) copied once per namespace, and their children as `mtopo render` prints them.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubernetesObject } from '@kubernetes/client-node';
import { dump, loadAll } from 'js-yaml';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLE = path.join(REPO_ROOT, 'examples/minimal.yaml');
const CLI = path.join(REPO_ROOT, 'operator/src/cli/main.ts');

/** Marks every namespace the benchmark creates, so it can find and delete exactly those. */
export const BENCH_LABEL = 'mtopo.dev/bench';

/** `count` namespace names for one measurement, e.g. `bench-2-op-007`. */
export function namespaceNames(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);
}

export function namespaceObjects(names: readonly string[], run: string): KubernetesObject[] {
  return names.map((name) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { [BENCH_LABEL]: run } },
  }));
}

/** The example site's resources (topology, relays, pool), once in each namespace. */
export function siteResources(namespaces: readonly string[]): KubernetesObject[] {
  const example = loadAll(readFileSync(EXAMPLE, 'utf8')) as KubernetesObject[];
  return namespaces.flatMap((namespace) =>
    example.map((o) => ({ ...structuredClone(o), metadata: { ...o.metadata, namespace } })),
  );
}

export function toYaml(objects: readonly KubernetesObject[]): string {
  return objects.map((o) => `---\n${dump(o, { lineWidth: -1, noRefs: true })}`).join('');
}

/**
 * The children of every site, exactly as `mtopo render -f FILE` prints them (multi-document YAML),
 * written to `outputPath`; returns how many objects of each kind it holds.
 */
export async function renderChildren(
  resources: readonly KubernetesObject[],
  inputPath: string,
  outputPath: string,
): Promise<Map<string, number>> {
  writeFileSync(inputPath, toYaml(resources));
  const yaml = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      [CLI, 'render', '-f', inputPath],
      { maxBuffer: 256 * 1024 * 1024, timeout: 60_000 },
      (error, stdout, stderr) => (error ? reject(new Error(`mtopo render: ${stderr}`)) : resolve(stdout)),
    );
  });
  writeFileSync(outputPath, yaml);
  const kinds = new Map<string, number>();
  for (const o of loadAll(yaml) as KubernetesObject[]) kinds.set(o.kind!, (kinds.get(o.kind!) ?? 0) + 1);
  return kinds;
}
