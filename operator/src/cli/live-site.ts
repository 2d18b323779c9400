// The live objects of one site, read from the API server with the user's kubeconfig (as kubectl
// does: $KUBECONFIG, ~/.kube/config, else in-cluster), for `mtopo status`, `mtopo diagram NAME` and
// `mtopo route`.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { z } from 'zod';
import type { messagingTopologyStatus } from '../api/messaging-topology.ts';
import type { mmpPoolStatus } from '../api/mmp-pool.ts';
import { loadClusterAccess } from '../reconcile/kube/cluster-access.ts';
import { KubeClient } from '../reconcile/kube/rest-client.ts';
import type { PodView } from './route.ts';

interface Meta {
  name: string;
  namespace: string;
  generation?: number;
}

export interface LiveMember extends KubernetesObject {
  kind: 'MTARelay' | 'MMPPool';
  metadata: Meta;
  spec: { topologyRef?: { name?: string } };
  status?: z.output<typeof mmpPoolStatus>;
}

export interface LiveSite {
  topology: KubernetesObject & {
    metadata: Meta;
    spec: unknown;
    status?: z.output<typeof messagingTopologyStatus>;
  };
  relays: LiveMember[];
  pools: LiveMember[];
}

/** The current context's namespace, as kubectl takes it when no -n is given. */
export function defaultNamespace(env = process.env): string {
  return loadClusterAccess(env).namespace ?? 'default';
}

export async function readLiveSite(namespace: string, name: string, env = process.env): Promise<LiveSite> {
  const client = new KubeClient(loadClusterAccess(env), { fieldManager: 'mtopo-cli' });
  const topology = await client.get<LiveSite['topology']>('MessagingTopology', namespace, name);
  if (topology === undefined) {
    throw new Error(
      `no MessagingTopology "${name}" in namespace ${namespace} (kubectl get mtopo -A lists them)`,
    );
  }
  const members = async (kind: 'MTARelay' | 'MMPPool') =>
    (await client.list<LiveMember>(kind, namespace)).items
      .map((m) => ({ ...m, kind }))
      .filter((m) => m.spec.topologyRef?.name === name);
  const [relays, pools] = await Promise.all([members('MTARelay'), members('MMPPool')]);
  return { topology: { ...topology, kind: 'MessagingTopology' }, relays, pools };
}

/** The topology to use when none is named: the namespace's only one, else an error naming them. */
export async function onlyTopology(namespace: string, env = process.env): Promise<string> {
  const client = new KubeClient(loadClusterAccess(env), { fieldManager: 'mtopo-cli' });
  const names = (await client.list('MessagingTopology', namespace)).items.map((t) => t.metadata?.name ?? '');
  const [only] = names;
  if (names.length === 1 && only) return only;
  throw new Error(
    names.length === 0
      ? `no MessagingTopology in namespace ${namespace} (kubectl get mtopo -A lists them; -n chooses the namespace)`
      : `${names.length} topologies in namespace ${namespace} (${names.join(', ')}): name one after the address`,
  );
}

/** The pods with these labels, as the API server lists them (their conditions say which are Ready). */
export async function podsWithLabels(
  namespace: string,
  labels: Readonly<Record<string, string>>,
  env = process.env,
): Promise<PodView[]> {
  const client = new KubeClient(loadClusterAccess(env), { fieldManager: 'mtopo-cli' });
  const labelSelector = Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return (await client.list<KubernetesObject & PodView>('Pod', namespace, { labelSelector })).items;
}

/** The site's objects as a manifest would hold them (spec only), for the renderer and the diagram. */
export function liveManifest(site: LiveSite): string {
  const strip = (o: KubernetesObject & { spec: unknown }) => ({
    apiVersion: 'mtopo.dev/v1alpha1',
    kind: o.kind,
    metadata: { name: o.metadata?.name, namespace: o.metadata?.namespace },
    spec: o.spec,
  });
  return [site.topology, ...site.relays, ...site.pools].map((o) => JSON.stringify(strip(o))).join('\n---\n');
}
