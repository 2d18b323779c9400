// One way for integration tests to run the operator against the test API server and hand it a site:
// an in-process Operator watching one namespace (leader election off, fast watch backoff, an hour's
// resync so only events drive it) and examples/minimal.yaml applied there as a user's kubectl would.
// The CLI's live test and the GitOps status test shared these lines as copies.
import { readFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import { pino } from 'pino';
import { operatorMetrics, type OperatorMetrics } from '../../operator/src/reconcile/metrics.ts';
import { Operator, type OperatorOptions } from '../../operator/src/reconcile/operator.ts';
import { REPO_ROOT } from '../../operator/src/render/test-support.ts';
import { applyManifests } from '../control-plane/index.ts';

/** examples/minimal.yaml's objects, moved into `namespace`. */
export function exampleIn(namespace: string): KubernetesObject[] {
  const text = readFileSync(`${REPO_ROOT}examples/minimal.yaml`, 'utf8');
  return (loadAll(text) as KubernetesObject[]).map((o) => ({ ...o, metadata: { ...o.metadata, namespace } }));
}

/** The options of a test operator on `namespace` (all namespaces when undefined) as above; `overrides` win. */
export function testOperatorOptions(
  kubeConfig: KubeConfig,
  namespace: string | undefined,
  metrics: OperatorMetrics,
  overrides: Partial<OperatorOptions> = {},
): OperatorOptions {
  return {
    kubeConfig,
    namespace,
    workers: 2,
    resyncMs: 3_600_000,
    fieldManager: 'mtopo-operator',
    leaderElection: { enabled: false },
    log: pino({ level: process.env.MTOPO_TEST_LOG ?? 'silent' }),
    metrics,
    watch: { backoffBaseMs: 100, backoffMaxMs: 2_000 },
    ...overrides,
  };
}

/** An operator on `namespace` as above, started, and stopped when the test ends; its metrics count its requests. */
export function startTestOperator(
  t: TestContext,
  kubeConfig: KubeConfig,
  namespace: string,
): { operator: Operator; metrics: OperatorMetrics } {
  const metrics = operatorMetrics();
  const operator = new Operator(testOperatorOptions(kubeConfig, namespace, metrics));
  operator.start();
  t.after(() => operator.stop());
  return { operator, metrics };
}

/** Starts an operator on `namespace` (stopped when the test ends) and applies the example site there. */
export async function runExampleSite(
  t: TestContext,
  kubeConfig: KubeConfig,
  namespace: string,
): Promise<KubernetesObject[]> {
  startTestOperator(t, kubeConfig, namespace);
  const objects = exampleIn(namespace);
  await applyManifests(kubeConfig, objects, { fieldManager: 'kubectl' });
  return objects;
}
