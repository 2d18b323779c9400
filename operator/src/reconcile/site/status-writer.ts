// Writing status: only when it differs from what the resource already shows, so a reconcile with
// nothing new to say makes no request (and no watch event that would trigger another reconcile).
import { isDeepStrictEqual } from 'node:util';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Condition } from '../../api/common.ts';
import { mergeConditions } from '../conditions.ts';
import type { KubeClient } from '../kube/rest-client.ts';

export const PAUSE_ANNOTATION = 'mtopo.dev/paused';

export type WithStatus = KubernetesObject & {
  status?: { conditions?: Condition[] } & Record<string, unknown>;
};

export class StatusWriter {
  readonly #client: KubeClient;
  readonly #now: () => string;

  constructor(client: KubeClient, now: () => string) {
    this.#client = client;
    this.#now = now;
  }

  now(): string {
    return this.#now();
  }

  async write(raw: WithStatus, status: object): Promise<void> {
    if (isDeepStrictEqual(JSON.parse(JSON.stringify(status)), raw.status ?? {})) return;
    await this.#client.applyStatus(
      {
        apiVersion: raw.apiVersion,
        kind: raw.kind,
        metadata: { name: raw.metadata?.name, namespace: raw.metadata?.namespace },
        status,
      } as KubernetesObject,
      // The answer is not read: the watch brings the written status to the cache.
      { answer: 'metadata' },
    );
  }

  /** Progressing=False/Paused; the other conditions stay as they were. */
  async writePaused(raw: WithStatus): Promise<void> {
    const generation = raw.metadata?.generation ?? 0;
    const previous = raw.status?.conditions ?? [];
    const paused = {
      type: 'Progressing',
      status: 'False' as const,
      reason: 'Paused',
      message: `Reconciliation is paused by the ${PAUSE_ANNOTATION} annotation; remove it to resume.`,
      observedGeneration: generation,
    };
    const others = previous
      .filter((c) => c.type !== 'Progressing')
      .map(({ lastTransitionTime: _, ...c }) => c);
    await this.write(raw, {
      ...raw.status,
      conditions: mergeConditions(previous, [...others, paused], this.#now()),
    });
  }
}
