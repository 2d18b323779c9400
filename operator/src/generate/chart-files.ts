// The Helm chart's generated files (charts/mtopo), so that what the chart grants and installs is
// written once:
//   - templates/_rules.tpl: the named templates `mtopo.operatorRules` and `mtopo.leaderElectionRules`,
//     the YAML rule lists of OPERATOR_RULES, LEADER_ELECTION_RULES and HELM_TEST_RULES (rbac.ts), which the chart's
//     ClusterRole/Role templates include;
//   - files/crds/: byte-for-byte copies of the generated crds/*.yaml, which templates/crds.yaml
//     renders (with Helm's keep policy) so that `helm upgrade` upgrades them; Helm's own crds/ folder
//     would be installed once and never upgraded.
// `make crds` writes them (main.ts); chart-files.test.ts fails when the committed ones are stale.
import type { V1PolicyRule } from '@kubernetes/client-node';
import { dump } from 'js-yaml';
import { HELM_TEST_RULES, LEADER_ELECTION_RULES, OPERATOR_RULES } from '../reconcile/rbac.ts';
import { generatedFiles } from './crds.ts';
import { GENERATED_NOTICE, type GeneratedSet } from './generated-files.ts';

export const CHART_DIRECTORY = 'charts/mtopo';
export const RULES_TEMPLATE_PATH = `${CHART_DIRECTORY}/templates/_rules.tpl`;
export const CHART_CRD_DIRECTORY = `${CHART_DIRECTORY}/files/crds`;

/** The named templates and the rules each holds, in the order they are written. */
export const RULE_TEMPLATES: ReadonlyArray<readonly [name: string, rules: readonly V1PolicyRule[]]> = [
  ['mtopo.operatorRules', OPERATOR_RULES],
  ['mtopo.leaderElectionRules', LEADER_ELECTION_RULES],
  ['mtopo.helmTestRules', HELM_TEST_RULES],
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
    `{{/* ${GENERATED_NOTICE}: the source is OPERATOR_RULES, LEADER_ELECTION_RULES and HELM_TEST_RULES ` +
    'in operator/src/reconcile/rbac.ts */}}\n';
  const blocks = templates.map(
    ([name, rules]) => `{{- define "${name}" -}}\n${rulesYaml(rules)}\n{{- end }}\n`,
  );
  return header + blocks.join('\n');
}

/**
 * Every generated file of the chart, by path relative to the repository root: the rules template,
 * then one copy in the chart's files/crds/ of each generated crds/*.yaml (same name, same bytes).
 */
export function chartFiles(generated: ReadonlyMap<string, string> = generatedFiles()): Map<string, string> {
  const files = new Map<string, string>([[RULES_TEMPLATE_PATH, renderRulesTemplate()]]);
  for (const [path, content] of generated) {
    if (path.startsWith('crds/')) files.set(`${CHART_CRD_DIRECTORY}/${path.slice('crds/'.length)}`, content);
  }
  return files;
}

/** The chart's files/crds/ is owned: templates/crds.yaml would install any file left in it. */
export function chartSet(files = chartFiles()): GeneratedSet {
  return { files, ownedDirectories: [CHART_CRD_DIRECTORY] };
}
