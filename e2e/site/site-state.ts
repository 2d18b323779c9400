// Reading the deployed site's state with kubectl: pods, a resource's field, whether a condition holds
// for the current spec, a tier's logs. (siroe.etest.ts has its own copies from before this module;
// they can move here once the journeys' file is settled.)
import { kubectl } from '../../testing/control-plane/kubectl.ts';
import { waitFor } from '../../testing/support/wait.ts';
import { SITE_NAMESPACE } from './deploy-site.ts';

export interface PodInfo {
  readonly name: string;
  readonly uid: string;
  readonly labels: Record<string, string>;
  readonly images: string[];
  readonly phase: string;
  readonly ready: boolean;
  /** Once the pod has one. */
  readonly ip: string | undefined;
}

/** The namespace's pods that are not being deleted. */
export async function pods(namespace = SITE_NAMESPACE): Promise<PodInfo[]> {
  const list = JSON.parse((await kubectl(['-n', namespace, 'get', 'pods', '-o', 'json'])).stdout) as {
    items: {
      metadata: { name: string; uid: string; labels?: Record<string, string>; deletionTimestamp?: string };
      spec: { containers: { image: string }[] };
      status: { phase: string; podIP?: string; conditions?: { type: string; status: string }[] };
    }[];
  };
  return list.items
    .filter((p) => p.metadata.deletionTimestamp === undefined)
    .map((p) => ({
      name: p.metadata.name,
      uid: p.metadata.uid,
      labels: p.metadata.labels ?? {},
      images: p.spec.containers.map((c) => c.image),
      phase: p.status.phase,
      ready: p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
      ip: p.status.podIP,
    }));
}

export async function podUid(name: string, namespace = SITE_NAMESPACE): Promise<string> {
  return jsonpathOf(`pod/${name}`, '{.metadata.uid}', namespace).catch(() => '');
}

export async function jsonpathOf(what: string, path: string, namespace = SITE_NAMESPACE): Promise<string> {
  return (await kubectl(['-n', namespace, 'get', what, '-o', `jsonpath=${path}`])).stdout.trim();
}

interface Conditioned {
  metadata: { generation?: number };
  status?: { conditions?: { type: string; status: string; observedGeneration?: number }[] };
}

/** `type` has `status`, observed at the resource's own generation (an old Ready does not count). */
export async function conditionHolds(what: string, type: string, status: 'True' | 'False'): Promise<boolean> {
  const resource = JSON.parse(
    (await kubectl(['-n', SITE_NAMESPACE, 'get', what, '-o', 'json'])).stdout,
  ) as Conditioned;
  const condition = resource.status?.conditions?.find((c) => c.type === type);
  return condition?.status === status && condition.observedGeneration === (resource.metadata.generation ?? 1);
}

/** The site is Ready and not rolling out, and so is each resource named. */
export async function siteReady(...changed: string[]): Promise<void> {
  await waitFor(
    `the site${changed.length > 0 ? ` and ${changed.join(', ')}` : ''} to be Ready for the current spec`,
    async () => {
      for (const what of changed) if (!(await conditionHolds(what, 'Ready', 'True'))) return false;
      return (
        (await conditionHolds('messagingtopology/siroe', 'Ready', 'True')) &&
        (await conditionHolds('messagingtopology/siroe', 'Progressing', 'False'))
      );
    },
    { timeoutMs: 600_000, intervalMs: 1_000 },
  );
}

export async function tierLogs(selector: string): Promise<string> {
  const result = await kubectl(
    ['-n', SITE_NAMESPACE, 'logs', '-l', selector, '--tail=-1', '--prefix', '--max-log-requests=20'],
    { check: false },
  );
  return result.stdout;
}

export async function patch(kind: string, name: string, body: object): Promise<void> {
  await kubectl(['-n', SITE_NAMESPACE, 'patch', kind, name, '--type=merge', '-p', JSON.stringify(body)]);
}
