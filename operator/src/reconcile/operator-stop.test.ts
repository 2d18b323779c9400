// An operator told to stop while its API server cannot be reached (a node cut off, a control plane
// down) must still stop: its caches never synced, and nothing may wait for them.
import { describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { freePort } from '../../../testing/support/free-ports.ts';
import { operatorMetrics } from './metrics.ts';
import { Operator } from './operator.ts';

async function unreachable(): Promise<KubeConfig> {
  const port = await freePort(); // claimed for this process, and nothing listens on it
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'gone', server: `https://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'x' }],
    contexts: [{ name: 'c', cluster: 'gone', user: 'u' }],
    currentContext: 'c',
  });
  return kubeConfig;
}

const within = <T>(ms: number, work: Promise<T>): Promise<T> =>
  Promise.race([
    work,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`still stopping after ${ms} ms`)), ms).unref(),
    ),
  ]);

describe('stopping with the API server out of reach', () => {
  for (const leaderElection of [false, true]) {
    it(`returns promptly ${leaderElection ? 'while campaigning for the lease' : 'before the caches synced'}`, async () => {
      const operator = new Operator({
        kubeConfig: await unreachable(),
        namespace: 'mail',
        workers: 2,
        resyncMs: 3_600_000,
        fieldManager: 'mtopo-operator',
        leaderElection: leaderElection
          ? {
              enabled: true,
              namespace: 'mail',
              name: 'mtopo-operator',
              identity: 'a',
              leaseDurationSeconds: 4,
              renewIntervalMs: 200,
            }
          : { enabled: false },
        log: pino({ level: 'silent' }),
        metrics: operatorMetrics(),
        watch: { backoffBaseMs: 50, backoffMaxMs: 200 },
      });
      operator.start();
      // Let the informers (or the campaign) fail a few times first.
      await new Promise((resolve) => setTimeout(resolve, 500));
      await within(10_000, operator.stop());
    });
  }
});
