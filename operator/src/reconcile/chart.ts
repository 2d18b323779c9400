// The Helm chart's generated files (charts/mtopo), so that what the chart grants and installs is
// written once:
//   - templates/_rules.tpl: the named templates `mtopo.operatorRules` and `mtopo.leaderElectionRules`,
//     the YAML rule lists of OPERATOR_RULES and LEADER_ELECTION_RULES (rbac.ts), which the chart's
//     ClusterRole/Role templates include;
//   - crds/: Helm's CRD folder, byte-for-byte copies of the generated crds/*.yaml.
// `make crds` writes them (charts/charts.mk); chart.test.ts fails when the committed ones are stale.
//
//   node operator/src/reconcile/chart.ts           write the files
//   node operator/src/reconcile/chart.ts --check   write nothing; exit 1 naming each stale file
//   … --root DIR                                    the same for another checkout
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { V1PolicyRule } from '@kubernetes/client-node';
import { dump } from 'js-yaml';
import { GENERATED_NOTICE } from '../api/api-docs.ts';
import { generatedFiles, REPOSITORY_ROOT, type StaleFile } from '../api/generate.ts';
import { LEADER_ELECTION_RULES, OPERATOR_RULES } from './rbac.ts';

export const CHART_DIRECTORY = 'charts/mtopo';
export const RULES_TEMPLATE_PATH = `${CHART_DIRECTORY}/templates/_rules.tpl`;
const CHART_CRD_DIRECTORY = `${CHART_DIRECTORY}/crds`;

/** The named templates and the rules each holds, in the order they are written. */
export const RULE_TEMPLATES: ReadonlyArray<readonly [name: string, rules: readonly V1PolicyRule[]]> = [
  ['mtopo.operatorRules', OPERATOR_RULES],
  ['mtopo.leaderElectionRules', LEADER_ELECTION_RULES],
];

/** A rule list as YAML; only the fields a rule has (no `undefined`s from the typed model). */
function rulesYaml(rules: readonly V1PolicyRule[]): string {
  const plain = rules.map((rule) => JSON.parse(JSON.stringify(rule)) as unknown);
  const yaml = dump(plain, { noRefs: true, lineWidth: -1 }).trimEnd();
  // Helm reads the template as Go template text: a rule holding an action would be executed.
  if (yaml.includes('{{')) throw new Error(`a rule holds "{{", which Helm would run as a template:\n${yaml}`);
  return yaml;
}

/**
 * The text of templates/_rules.tpl. Each template renders a YAML list starting at column 0; the
 * chart places it with `{{- include "mtopo.operatorRules" . | nindent 2 }}` under `rules:`.
 */
export function renderRulesTemplate(templates = RULE_TEMPLATES): string {
  const header =
    `{{/* ${GENERATED_NOTICE}: the source is OPERATOR_RULES and LEADER_ELECTION_RULES ` +
    'in operator/src/reconcile/rbac.ts */}}\n';
  const blocks = templates.map(
    ([name, rules]) => `{{- define "${name}" -}}\n${rulesYaml(rules)}\n{{- end }}\n`,
  );
  return header + blocks.join('\n');
}

/**
 * Every generated file of the chart, by path relative to the repository root: the rules template,
 * then one copy in the chart's crds/ of each generated crds/*.yaml (same name, same bytes).
 */
export function chartFiles(generated: ReadonlyMap<string, string> = generatedFiles()): Map<string, string> {
  const files = new Map<string, string>([[RULES_TEMPLATE_PATH, renderRulesTemplate()]]);
  for (const [path, content] of generated) {
    if (path.startsWith('crds/')) files.set(`${CHART_CRD_DIRECTORY}/${path.slice('crds/'.length)}`, content);
  }
  return files;
}

/** Files in the chart's crds/ that nothing generates (Helm would install them all). */
function leftoverCrds(root: string, files: ReadonlyMap<string, string>): string[] {
  const directory = join(root, CHART_CRD_DIRECTORY);
  if (!existsSync(directory)) return [];
  return readdirSync(directory)
    .map((name) => `${CHART_CRD_DIRECTORY}/${name}`)
    .filter((path) => !files.has(path))
    .sort();
}

/** The chart's files on disk that differ from what would be generated now. */
export function staleChartFiles(root: string = REPOSITORY_ROOT, files = chartFiles()): StaleFile[] {
  const stale: StaleFile[] = [];
  for (const [path, content] of files) {
    const full = join(root, path);
    if (!existsSync(full)) stale.push({ path, why: 'missing' });
    else if (readFileSync(full, 'utf8') !== content) stale.push({ path, why: 'differs' });
  }
  for (const path of leftoverCrds(root, files)) stale.push({ path, why: 'not generated' });
  return stale;
}

export function writeChartFiles(root: string = REPOSITORY_ROOT, files = chartFiles()): string[] {
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
  const rootAt = args.indexOf('--root');
  const root = rootAt >= 0 && args[rootAt + 1] ? args[rootAt + 1] : REPOSITORY_ROOT;
  if (args.includes('--check')) {
    const stale = staleChartFiles(root);
    if (stale.length === 0) return 0;
    for (const file of stale) console.error(`stale: ${file.path} (${file.why})`);
    console.error('run `make crds` and commit the result');
    return 1;
  }
  const written = writeChartFiles(root);
  console.log(
    written.length > 0
      ? `wrote ${written.join(', ')}`
      : `${CHART_DIRECTORY}'s generated files are up to date`,
  );
  return 0;
}

if (import.meta.main) process.exitCode = main(process.argv.slice(2));
