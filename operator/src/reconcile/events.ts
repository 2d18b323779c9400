// Kubernetes Events for what the operator did, so `kubectl describe` tells the story. The same event
// for the same object is sent once per ten minutes, not on every reconcile.
import { randomBytes } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { KubeClient } from './kube/rest-client.ts';

const REPEAT_AFTER_MS = 10 * 60_000;

export class EventRecorder {
  readonly #client: KubeClient;
  readonly #log: Logger;
  readonly #recent = new Map<string, number>();
  readonly #component: string;

  constructor(client: KubeClient, log: Logger, component = 'mtopo-operator') {
    this.#client = client;
    this.#log = log;
    this.#component = component;
  }

  async record(
    about: KubernetesObject,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): Promise<void> {
    const meta = about.metadata ?? {};
    const key = `${about.kind}/${meta.namespace}/${meta.name}/${reason}/${message}`;
    const now = Date.now();
    if ((this.#recent.get(key) ?? 0) > now - REPEAT_AFTER_MS) return;
    this.#recent.set(key, now);
    if (this.#recent.size > 10_000) this.#recent.clear();
    const time = new Date(now).toISOString();
    try {
      await this.#client.create({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${meta.name}.${randomBytes(8).toString('hex')}`, namespace: meta.namespace },
        involvedObject: {
          apiVersion: about.apiVersion,
          kind: about.kind,
          name: meta.name,
          namespace: meta.namespace,
          uid: meta.uid,
          resourceVersion: meta.resourceVersion,
        },
        reason,
        message,
        type,
        source: { component: this.#component },
        firstTimestamp: time,
        lastTimestamp: time,
        count: 1,
        reportingComponent: this.#component,
      } as KubernetesObject);
    } catch (error) {
      // An event that cannot be written must never fail the reconcile it describes.
      this.#log.warn({ err: (error as Error).message, reason }, 'could not record event');
    }
  }
}
