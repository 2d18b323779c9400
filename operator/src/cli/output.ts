// How rendered objects are printed: multi-document YAML (what `kubectl apply -f` and GitOps tools
// read) or a JSON v1 List.
import type { KubernetesObject } from '@kubernetes/client-node';
import { dump } from 'js-yaml';

export function toYaml(objects: readonly KubernetesObject[]): string {
  return objects.map((o) => `---\n${dump(o, { lineWidth: -1, noRefs: true })}`).join('');
}

export function toJsonList(objects: readonly KubernetesObject[]): string {
  return `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }, null, 2)}\n`;
}
