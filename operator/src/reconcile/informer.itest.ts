// The informer and the client's paged lists against a real API server. The client below holds a
// list's answer back until the test lets it go, so "an update lands while a list is in flight" is
// a fixed order of events, not a matter of luck.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import {
  applyManifests,
  createTestNamespace,
  testKubeConfig,
  waitFor,
} from '../../../testing/control-plane/index.ts';
import { Informer } from './informer.ts';
import { KubeClient, type ListResult } from './kube/rest-client.ts';

const admin = testKubeConfig();
const log = pino({ level: process.env.MTOPO_TEST_LOG ?? 'silent' });

/** A real client whose next list, once the server has answered, waits at a gate. */
class GatedClient extends KubeClient {
  #armed = false;
  #held = Promise.withResolvers<void>();
  #open = Promise.withResolvers<void>();

  holdNextList(): Promise<void> {
    this.#armed = true;
    this.#held = Promise.withResolvers<void>();
    this.#open = Promise.withResolvers<void>();
    return this.#held.promise;
  }

  letListGo(): void {
    this.#open.resolve();
  }

  override async list<T extends KubernetesObject>(
    kind: string,
    namespace: string | undefined,
    options: { labelSelector?: string; pageSize?: number; signal?: AbortSignal } = {},
  ): Promise<ListResult<T>> {
    const answer = await super.list<T>(kind, namespace, options);
    if (this.#armed) {
      this.#armed = false;
      this.#held.resolve();
      await this.#open.promise;
    }
    return answer;
  }
}

const configMap = (namespace: string, name: string, value: string): KubernetesObject =>
  ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace },
    data: { value },
  }) as KubernetesObject;

const valueOf = (o: KubernetesObject | undefined) =>
  (o as { data?: { value?: string } } | undefined)?.data?.value;

describe('the informer on a real API server', () => {
  it('keeps an update that lands while a resync is under way', async (t) => {
    const namespace = await createTestNamespace(t);
    await applyManifests(admin, [configMap(namespace, 'watched', 'old')]);
    const client = new GatedClient(admin, { fieldManager: 'test' });
    const replayed: string[] = [];
    const informer = new Informer(client, {
      kind: 'ConfigMap',
      namespace,
      onChange: (before, after) => {
        const name = after?.metadata?.name ?? '';
        if (before && before === after && name === 'watched') replayed.push(name);
      },
      onRestart: () => {},
      log,
    });
    informer.start();
    t.after(() => informer.stop());
    await informer.waitForSync();

    // A resync that lists would take its snapshot now, before the update…
    const held = client.holdNextList();
    const resynced = Promise.resolve(informer.resync() as unknown);
    await Promise.race([held, resynced]);
    // …then the update lands and the watch delivers it…
    await applyManifests(admin, [configMap(namespace, 'watched', 'new')]);
    await waitFor(
      'the watch delivers the update',
      () => valueOf(informer.get(namespace, 'watched')) === 'new',
    );
    // …and the stale snapshot, applied last, would roll the cache back.
    client.letListGo();
    await resynced;
    assert.equal(valueOf(informer.get(namespace, 'watched')), 'new', 'the cache never goes back in time');
    assert.deepEqual(replayed, ['watched'], 'the resync replays the cached objects');
  });
});

describe('a metadata-only informer on a real API server', () => {
  it('lists and watches PartialObjectMetadata, each kept as its own kind, with no data', async (t) => {
    const namespace = await createTestNamespace(t);
    await applyManifests(admin, [
      ...Array.from({ length: 3 }, (_, i) => configMap(namespace, `listed-${i}`, 'old')),
    ]);
    const client = new KubeClient(admin, { fieldManager: 'test' });
    const seen: KubernetesObject[] = [];
    const informer = new Informer(client, {
      kind: 'ConfigMap',
      namespace,
      metadataOnly: true,
      // Pages of 2: the metadata list is paged like the whole one.
      watch: { pageSize: 2 },
      onChange: (_before, after) => after && seen.push(after),
      onRestart: () => {},
      log,
    });
    informer.start();
    t.after(() => informer.stop());
    await informer.waitForSync();
    const listed = informer.list(namespace).filter((o) => o.metadata?.name?.startsWith('listed-'));
    assert.equal(listed.length, 3);
    await applyManifests(admin, [
      {
        ...configMap(namespace, 'listed-0', 'new'),
        metadata: { name: 'listed-0', namespace, labels: { a: 'b' } },
      },
    ]);
    const updated = await waitFor('the watch delivers the update', () =>
      seen.find((o) => o.metadata?.name === 'listed-0' && o.metadata.labels?.a === 'b'),
    );
    for (const object of [...listed, updated]) {
      assert.equal(object.kind, 'ConfigMap', 'the kind watched, not PartialObjectMetadata');
      assert.equal(object.apiVersion, 'v1');
      assert.equal(valueOf(object), undefined, 'no data came');
      assert.match(object.metadata?.resourceVersion ?? '', /^\d+$/);
      assert.ok(object.metadata?.uid);
    }
  });

  it('syncs on an empty list (a PartialObjectMetadataList with "items": null)', async (t) => {
    const namespace = await createTestNamespace(t);
    const restarts: string[] = [];
    const informer = new Informer(new KubeClient(admin, { fieldManager: 'test' }), {
      kind: 'ConfigMap',
      namespace,
      labelSelector: 'app.kubernetes.io/managed-by=nobody',
      metadataOnly: true,
      onChange: () => {},
      onRestart: (_kind, reason) => restarts.push(reason),
      log,
    });
    informer.start();
    t.after(() => informer.stop());
    await waitFor('synced, or failed', () => informer.synced || restarts.length > 0);
    assert.deepEqual(restarts, [], 'the list did not fail');
    assert.deepEqual(informer.list(namespace), []);
  });
});

describe('lists on a real API server', () => {
  it('follows continue tokens page by page to the whole list', async (t) => {
    const namespace = await createTestNamespace(t);
    await applyManifests(
      admin,
      Array.from({ length: 7 }, (_, i) => configMap(namespace, `page-${i}`, String(i))),
    );
    let lists = 0;
    const client = new KubeClient(admin, {
      fieldManager: 'test',
      onRequest: (verb) => (lists += verb === 'list' ? 1 : 0),
    });
    const { items, resourceVersion } = await client.list('ConfigMap', namespace, { pageSize: 3 });
    const names = items.map((o) => o.metadata?.name).filter((n) => n?.startsWith('page-'));
    assert.deepEqual(
      names,
      Array.from({ length: 7 }, (_, i) => `page-${i}`),
    );
    assert.ok(items.every((o) => o.kind === 'ConfigMap' && o.apiVersion === 'v1'));
    assert.ok(lists >= 3, `pages of 3 make at least 3 requests for 7 objects (${lists})`);
    assert.match(resourceVersion, /^\d+$/);
  });
});
