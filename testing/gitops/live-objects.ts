// What the GitOps itests share: the test control plane's admin, the CRDs they install first, and
// reads of live objects (as the server has them now, or once they reach a state). Both files wrote
// these lines as copies, each with its own client and its own waits on a `get`.
import assert from 'node:assert/strict';
import type { KubernetesObject } from '@kubernetes/client-node';
import { KubeClient } from '../../operator/src/reconcile/kube/rest-client.ts';
import { REPO_ROOT } from '../../operator/src/render/test-support.ts';
import { installCrdsFrom, testKubeConfig, waitFor } from '../control-plane/index.ts';

export const admin = testKubeConfig();
// It only reads: the field manager is the client's requirement, never written under.
const reader = new KubeClient(admin, { fieldManager: 'test-reader' });

/** The CRDs from crds/, for a file's `before`. */
export const installCrds = () => installCrdsFrom(admin, `${REPO_ROOT}crds`);

/** An object named as the tests name them; `live` and `liveWhen` take it or any whole object. */
export const ref = (kind: string, namespace: string, name: string): KubernetesObject => ({
  kind,
  metadata: { namespace, name },
});

const key = (o: KubernetesObject) => `${o.kind}/${o.metadata?.name}`;

/** The object as the server has it now, or undefined where there is none. */
export const found = <T extends KubernetesObject = KubernetesObject>(o: KubernetesObject) =>
  reader.get<T>(o.kind ?? '', o.metadata?.namespace, o.metadata?.name ?? '');

/** The object as the server has it now; the test fails if there is none. */
export async function live<T extends KubernetesObject = KubernetesObject>(o: KubernetesObject): Promise<T> {
  const now = await found<T>(o);
  assert.ok(now, `${key(o)} exists`);
  return now;
}

/** Waits until the object exists and `holds` says yes of it, and gives it back as it then was. */
export function liveWhen<T extends KubernetesObject = KubernetesObject>(
  description: string,
  o: KubernetesObject,
  holds: (live: T) => boolean,
  timeoutMs = 60_000,
): Promise<T> {
  return waitFor(
    description,
    async () => {
      const now = await found<T>(o);
      return now !== undefined && holds(now) && now;
    },
    timeoutMs,
  );
}
