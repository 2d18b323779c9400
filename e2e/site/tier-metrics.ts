// A tier's Prometheus counters as its own pods report them, read with `kubectl exec` (the metrics
// port is open only to the monitoring zone, and the test is not in it): each pod's
// /metrics fetched from inside the pod, the samples of one metric summed over the tier's pods.
import { PORTS } from '../../images/lib/contract/ports.ts';
import { kubectl } from '../../testing/control-plane/kubectl.ts';

const FETCH_METRICS = `fetch('http://127.0.0.1:${PORTS.http.container}/metrics').then((r) => r.text()).then((t) => process.stdout.write(t), (e) => { console.error(String(e)); process.exit(1); })`;

/** The sum of a metric's samples whose labels include `labels`, in one exposition text. */
export function sumSamples(exposition: string, metric: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (match === null || match[1] !== metric) continue;
    const found = new Map<string, string>();
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      found.set(pair[1]!, pair[2]!);
    if (Object.entries(labels).every(([k, v]) => found.get(k) === v)) total += Number(match[3]);
  }
  return total;
}

/** The metric summed over every running pod of the tier (pods found by `selector`). */
export async function tierCounter(
  namespace: string,
  selector: string,
  metric: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const names = (
    await kubectl([
      '-n',
      namespace,
      'get',
      'pods',
      '-l',
      selector,
      '--field-selector=status.phase=Running',
      '-o',
      'jsonpath={.items[*].metadata.name}',
    ])
  ).stdout
    .trim()
    .split(/\s+/)
    .filter((n) => n !== '');
  if (names.length === 0) throw new Error(`no running pod matches ${selector} in ${namespace}`);
  let total = 0;
  for (const name of names) {
    const text = await kubectl(['-n', namespace, 'exec', name, '--', 'node', '-e', FETCH_METRICS]);
    total += sumSamples(text.stdout, metric, labels);
  }
  return total;
}
