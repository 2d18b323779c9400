// A GitOps tool and the operator on the same site, with real server-side apply on a real API server:
// who owns which field (metadata.managedFields), and that neither undoes the other's writes.
//
// - Argo CD (field manager argocd-controller, forced, as its ServerSideApply=true sync does) applies
//   the topology, relays and pools a user keeps in Git; the operator reconciles their children as
//   mtopo-operator. The custom resources' spec stays Argo CD's alone (the operator writes only
//   status, through the status subresource), so Argo CD's next sync and its server-side diff find
//   nothing to change; the children settle and several reconciles (a resync, a re-render, a
//   restart) write none of them again.
// - Labels and annotations a user's tool adds to a child (a cloud load balancer's annotation on a
//   Service, a pod annotation on a StatefulSet's template) are theirs and survive every reconcile;
//   a field the operator renders is the operator's: an unforced apply of it is refused with a
//   conflict naming mtopo-operator, and a forced one is put back on the next reconcile.
// - Flux (kustomize-controller, forced) that applies `mtopo render` output beside the custom
//   resources co-owns each rendered field with equal values: nothing flips back and forth. (An
//   empty list in the render, which the server does not store, made every such apply a write and
//   a new generation; the renderer leaves them out.)
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { before, describe, it, type TestContext } from 'node:test';
import type { KubernetesObject, V1ManagedFieldsEntry } from '@kubernetes/client-node';
import { run } from '../../operator/src/cli/main.ts';
import { applyManifests, createTestNamespace, kubectl, waitFor } from '../control-plane/index.ts';
import { exampleIn, startTestOperator } from '../operator/example-site.ts';
import { admin, found, installCrds, live, liveWhen, ref } from './live-objects.ts';

const OPERATOR = 'mtopo-operator';
/** Argo CD's server-side apply manager (ArgoCDSSAManager in Argo CD's source). */
const ARGO = 'argocd-controller';
/** Flux's Kustomization applier. */
const FLUX = 'kustomize-controller';
const ARGO_APP = 'mail';
const TRACKING_ID = 'argocd.argoproj.io/tracking-id';
const PAUSED = 'mtopo.dev/paused';
const FLUX_LABELS = {
  'kustomize.toolkit.fluxcd.io/name': 'mail',
  'kustomize.toolkit.fluxcd.io/namespace': 'flux-system',
};

/** The keys users' tools add to children: a cloud load balancer's annotation, a team's own. */
const ADDED = {
  lbScheme: 'service.beta.kubernetes.io/aws-load-balancer-scheme',
  retired: 'example.com/retired',
  team: 'example.com/team',
  onCall: 'example.com/on-call',
  ticket: 'example.com/ticket',
  owner: 'example.com/owner',
  backup: 'example.com/backup',
};

type Meta = NonNullable<KubernetesObject['metadata']>;
/** A StatefulSet as far as a test reads its spec. */
type StatefulSetOf<Spec> = KubernetesObject & { spec?: Spec };
const key = (o: KubernetesObject) => `${o.kind}/${o.metadata?.name}`;
const withMeta = (o: KubernetesObject, extra: (meta: Meta) => Meta): KubernetesObject => ({
  ...o,
  metadata: extra(o.metadata ?? {}),
});

/** What Argo CD sends for a manifest it syncs: the manifest with its annotation tracking id. */
function asArgoSyncs(o: KubernetesObject): KubernetesObject {
  const group = o.apiVersion?.includes('/') ? o.apiVersion.split('/')[0] : '';
  const id = `${ARGO_APP}:${group}/${o.kind}:${o.metadata?.namespace}/${o.metadata?.name}`;
  return withMeta(o, (m) => ({ ...m, annotations: { ...m.annotations, [TRACKING_ID]: id } }));
}

/** What Flux sends: the manifest with its Kustomization's labels. */
const asFluxSyncs = (o: KubernetesObject) =>
  withMeta(o, (m) => ({ ...m, labels: { ...m.labels, ...FLUX_LABELS } }));

const argoSync = (
  objects: readonly KubernetesObject[],
  options: { force?: boolean; dryRun?: boolean } = {},
) => applyManifests(admin, objects.map(asArgoSyncs), { fieldManager: ARGO, force: true, ...options });

const fluxSync = (objects: readonly KubernetesObject[], options: { dryRun?: boolean } = {}) =>
  applyManifests(admin, objects.map(asFluxSyncs), { fieldManager: FLUX, force: true, ...options });

/** `mtopo render -f - -o json`, run by the CLI's own code on the manifests a user keeps in Git. */
async function mtopoRender(objects: readonly KubernetesObject[]): Promise<KubernetesObject[]> {
  let stdout = '';
  let stderr = '';
  const code = await run(['render', '-f', '-', '-o', 'json'], {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    readStdin: () => objects.map((o) => `---\n${JSON.stringify(o)}\n`).join(''),
    writeFile: () => assert.fail('render writes no file'),
  });
  assert.equal(code, 0, stderr);
  return (JSON.parse(stdout) as { items: KubernetesObject[] }).items;
}

/**
 * A managedFields entry's leaf paths, e.g. "f:metadata/f:labels/f:team": what that manager owns.
 * A node marked "." (a list item or map the manager set as such) counts as owned itself.
 */
function ownedPaths(fields: unknown, prefix = ''): string[] {
  const entries = Object.entries((fields ?? {}) as Record<string, unknown>).filter(([k]) => k !== '.');
  const self = prefix !== '' && '.' in ((fields ?? {}) as object) ? [prefix] : [];
  if (entries.length === 0) return prefix === '' ? [] : [prefix];
  return [...self, ...entries.flatMap(([k, v]) => ownedPaths(v, prefix === '' ? k : `${prefix}/${k}`))];
}

/** "manager operation [subresource]" of each managedFields entry, sorted. */
function writers(o: KubernetesObject): string[] {
  return (o.metadata?.managedFields ?? [])
    .map((e) => [e.manager, e.operation, e.subresource].filter(Boolean).join(' '))
    .sort();
}

const entryOf = (
  o: KubernetesObject,
  manager: string,
  subresource?: string,
): V1ManagedFieldsEntry | undefined =>
  o.metadata?.managedFields?.find((e) => e.manager === manager && e.subresource === subresource);

const pathsOf = (o: KubernetesObject, manager: string, subresource?: string) =>
  ownedPaths(entryOf(o, manager, subresource)?.fieldsV1);

/** resourceVersion of each object, by "Kind/name". */
async function versions(objects: readonly KubernetesObject[]): Promise<Map<string, string>> {
  const found = await Promise.all(objects.map(live));
  return new Map(found.map((o) => [key(o), o.metadata?.resourceVersion ?? '']));
}

/**
 * Waits until no object changes for 4.5 s (three checks 1.5 s apart): the operator's applies and
 * the controller-manager's status updates (a StatefulSet without nodes to run on) have settled.
 * A write loop never settles and fails here.
 */
async function settled(objects: readonly KubernetesObject[]): Promise<Map<string, string>> {
  let previous = new Map<string, string>();
  let quiet = 0;
  return waitFor(
    `${objects.length} objects to stop changing`,
    async () => {
      const now = await versions(objects);
      quiet = isDeepStrictEqual(now, previous) ? quiet + 1 : 0;
      previous = now;
      return quiet >= 3 && now;
    },
    { intervalMs: 1500, timeoutMs: 90_000 },
  );
}

/** The objects whose resourceVersion differs from `before`. */
async function changedSince(before: Map<string, string>, objects: readonly KubernetesObject[]) {
  const now = await versions(objects);
  return [...now].filter(([k, v]) => before.get(k) !== v).map(([k]) => k);
}

/** The operator, with counts of its reconciles and of its applies to children. */
function operatorOn(t: TestContext, namespace: string) {
  const { operator, metrics } = startTestOperator(t, admin, namespace);
  const reconciles = async () =>
    (await metrics.reconciles.get()).values
      .filter((v) => v.labels.kind === 'MessagingTopology')
      .reduce((sum, v) => sum + v.value, 0);
  /**
   * Writes to the spec, data or metadata of anything: not status, not events, and not the internal
   * Secret's blind create (a restarted operator's first one is answered 409, changing nothing).
   */
  const applies = async () =>
    (await metrics.apiRequests.get()).values
      .filter((v) => ['apply', 'create', 'patch', 'update'].includes(String(v.labels.verb)))
      .filter((v) => v.labels.kind !== 'Event' && !(v.labels.verb === 'create' && v.labels.kind === 'Secret'))
      .reduce((sum, v) => sum + v.value, 0);
  const drained = () => waitFor('the queue to drain', () => operator.queue.depth === 0, 60_000);
  /** Resolves once a reconcile that started after this call has finished and the queue is empty. */
  const reconciled = async (description: string, act: () => unknown) => {
    const before = await reconciles();
    await act();
    await waitFor(description, async () => (await reconciles()) > before, 60_000);
    await drained();
  };
  const renders = async () => (await metrics.renders.get()).values[0]?.value ?? 0;
  /** Stops this operator and starts another, which remembers nothing; resolves once it has reconciled. */
  const restart = async () => {
    await operator.stop();
    const next = operatorOn(t, namespace);
    await waitFor('the restarted operator to reconcile', async () => (await next.reconciles()) > 0, 60_000);
    await next.drained();
    return next;
  };
  return { operator, reconciles, renders, applies, reconciled, drained, restart };
}

/** The topology's status reports generation `generation`, and every rendered child exists. */
async function converged(namespace: string, children: readonly KubernetesObject[], generation = 1) {
  await waitFor(
    `the site reconciled at generation ${generation}`,
    async () => {
      const topology = await found<KubernetesObject & { status?: { observedGeneration?: number } }>(
        ref('MessagingTopology', namespace, 'small'),
      );
      if (topology?.status?.observedGeneration !== generation) return false;
      for (const o of children) if (!(await found(o))) return false;
      return true;
    },
    60_000,
  );
}

describe('field managers: a GitOps tool and the operator on one site', () => {
  before(async () => {
    await installCrds();
  });

  it('Argo CD owns the custom resources, the operator their status and the children: no write loop', async (t) => {
    const namespace = await createTestNamespace(t);
    const git = exampleIn(namespace);
    const children = await mtopoRender(git);
    const first = operatorOn(t, namespace);
    await argoSync(git);
    await converged(namespace, children);
    const settledAt = await settled([...git, ...children]);

    for (const resource of git) {
      const now = await live(resource);
      assert.equal(now.metadata?.generation, 1, `${key(resource)}: its spec was written once, by Argo CD`);
      assert.deepEqual(
        writers(now),
        [`${ARGO} Apply`, `${OPERATOR} Apply status`],
        `${key(resource)}: Argo CD applies it, the operator writes its status subresource`,
      );
      assert.deepEqual(
        pathsOf(now, OPERATOR, 'status').filter((p) => !p.startsWith('f:status')),
        [],
        `${key(resource)}: the operator owns nothing outside status`,
      );
      assert.ok(
        pathsOf(now, ARGO).every((p) => !p.startsWith('f:status')),
        `${key(resource)}: Argo CD owns nothing in status`,
      );
    }
    for (const child of await Promise.all(children.map(live))) {
      assert.equal(
        child.metadata?.annotations?.[TRACKING_ID],
        undefined,
        `${key(child)}: not tracked by the app`,
      );
      const foreign = (child.metadata?.managedFields ?? []).filter(
        (e) => e.manager !== OPERATOR && e.subresource !== 'status',
      );
      const foreignPaths = foreign.flatMap((e) => ownedPaths(e.fieldsV1).map((p) => `${e.manager}: ${p}`));
      assert.ok(
        foreignPaths.every((p) => /: f:metadata\/f:annotations\//.test(p)),
        `${key(child)}: only the operator writes what it renders; others wrote ${JSON.stringify(foreignPaths)}`,
      );
    }

    // Argo CD's next sync, stricter than Argo CD itself (no force): no conflict, and no write.
    await argoSync(git, { force: false });
    // Its server-side diff: a dry-run apply that gives back the live object unchanged.
    const dryRun = await argoSync(git, { dryRun: true });
    for (const [i, resource] of git.entries()) {
      const now = await live(resource);
      assert.equal(
        now.metadata?.resourceVersion,
        settledAt.get(key(resource)),
        `${key(resource)}: sync wrote nothing`,
      );
      assert.deepEqual(comparable(dryRun[i]!), comparable(now), `${key(resource)}: Argo CD's diff is empty`);
    }

    // Several reconciles: a resync, a re-render for a change in Git, and a restart that remembers
    // nothing of its applies. None writes a child, nor the custom resources' spec.
    const appliesBefore = await first.applies();
    await first.reconciled('the resync', () => first.operator.resync());
    const annotated = git.map((o) =>
      o.kind === 'MessagingTopology'
        ? withMeta(o, (m) => ({ ...m, annotations: { ...m.annotations, 'example.com/reviewed-by': 'ops' } }))
        : o,
    );
    const rendersBefore = await first.renders();
    await first.reconciled('the re-render of a changed topology', () => argoSync(annotated));
    assert.ok((await first.renders()) > rendersBefore, 'the changed topology was rendered again');
    assert.equal((await first.applies()) - appliesBefore, 0, 'no child was written');
    const restarted = await first.restart();
    await restarted.reconciled('a resync of the restarted operator', () => restarted.operator.resync());
    assert.equal(await restarted.applies(), 0, 'the restarted operator wrote no child');
    const changed = await changedSince(settledAt, [
      ...git.filter((o) => o.kind !== 'MessagingTopology'),
      ...children,
    ]);
    assert.deepEqual(changed, [], 'nothing was written after the site settled');
    for (const resource of git) assert.equal((await live(resource)).metadata?.generation, 1);

    // A pause by hand while Argo CD owns the topology: the annotation is not in Git, and Argo CD's
    // next sync (server-side apply) leaves a field it never applied alone.
    await kubectl(['annotate', '-n', namespace, 'messagingtopology', 'small', `${PAUSED}=true`]);
    await argoSync(annotated, { force: false });
    const topology = await live(git[0]!);
    assert.equal(topology.metadata?.annotations?.[PAUSED], 'true', 'the sync kept the pause');
    assert.deepEqual(pathsOf(topology, 'kubectl-annotate'), [`f:metadata/f:annotations/f:${PAUSED}`]);
  });

  it('keeps the labels and annotations a user adds to children, and puts back what the operator renders', async (t) => {
    const namespace = await createTestNamespace(t);
    const git = exampleIn(namespace).map((o) =>
      key(o) === 'MTARelay/edge'
        ? {
            ...o,
            spec: {
              ...(o as { spec: object }).spec,
              service: { annotations: { [ADDED.lbScheme]: 'internet-facing', [ADDED.retired]: 'yes' } },
            },
          }
        : o,
    );
    const children = await mtopoRender(git);
    const first = operatorOn(t, namespace);
    await argoSync(git);
    await converged(namespace, children);
    await settled([...git, ...children]);
    const edgeService = ref('Service', namespace, 'edge-mta');
    const edgeSet = ref('StatefulSet', namespace, 'edge-mta');

    // A team's own labels and annotations, applied with its own field manager and no force: no
    // conflict, since the operator renders none of them.
    await first.reconciled('the additions', async () => {
      await kubectl(
        [
          'apply',
          '--server-side',
          '--field-manager=mail-team',
          // kubectl's own schema check wants a whole object (a StatefulSet's selector); the server
          // validates the merged one.
          '--validate=false',
          '-f',
          '-',
        ],
        {
          input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: teamAdditions(namespace) }),
        },
      );
      await kubectl(['annotate', '-n', namespace, 'service', 'edge-mta', `${ADDED.ticket}=MAIL-42`]);
    });
    const expectAdditions = async (when: string) => {
      const service = await live(edgeService);
      assert.equal(
        service.metadata?.labels?.[ADDED.team],
        'mail',
        `${when}: the team's label on the Service`,
      );
      assert.equal(service.metadata?.annotations?.[ADDED.onCall], 'mail-team', `${when}: its annotation`);
      assert.equal(service.metadata?.annotations?.[ADDED.ticket], 'MAIL-42', `${when}: kubectl annotate's`);
      assert.deepEqual(
        pathsOf(service, 'mail-team'),
        [`f:metadata/f:annotations/f:${ADDED.onCall}`, `f:metadata/f:labels/f:${ADDED.team}`],
        `${when}: the team still owns its fields on the Service, and only those`,
      );
      const set =
        await live<StatefulSetOf<{ template?: { metadata?: { annotations?: Record<string, string> } } }>>(
          edgeSet,
        );
      assert.equal(
        set.metadata?.annotations?.[ADDED.owner],
        'mail-team',
        `${when}: the StatefulSet's annotation`,
      );
      assert.equal(
        set.spec?.template?.metadata?.annotations?.[ADDED.backup],
        'daily',
        `${when}: the pod annotation`,
      );
      assert.deepEqual(
        pathsOf(set, 'mail-team'),
        [
          `f:metadata/f:annotations/f:${ADDED.owner}`,
          `f:spec/f:template/f:metadata/f:annotations/f:${ADDED.backup}`,
        ],
        `${when}: the team still owns its fields on the StatefulSet`,
      );
      return { service, set };
    };
    await expectAdditions('after the reconciles they caused');

    // A change in Git that the operator applies to both objects: two edge replicas, one Service
    // annotation less. The annotation the operator no longer renders goes; the team's stay.
    const changed = git.map((o) =>
      key(o) === 'MTARelay/edge'
        ? {
            ...o,
            spec: {
              ...(o as { spec: object }).spec,
              replicas: 2,
              service: { annotations: { [ADDED.lbScheme]: 'internet-facing' } },
            },
          }
        : o,
    );
    await argoSync(changed);
    await liveWhen<StatefulSetOf<{ replicas?: number }>>(
      'two edge replicas',
      edgeSet,
      (set) => set.spec?.replicas === 2,
    );
    await liveWhen(
      'the retired annotation gone',
      edgeService,
      (service) => !service.metadata?.annotations?.[ADDED.retired],
    );
    const { service } = await expectAdditions('after the operator applied both objects again');
    assert.equal(
      service.metadata?.annotations?.[ADDED.lbScheme],
      'internet-facing',
      'spec.service.annotations kept',
    );
    assert.ok(pathsOf(service, OPERATOR).includes(`f:metadata/f:annotations/f:${ADDED.lbScheme}`));

    // A restart: the operator remembers nothing, sees the team's writes beside its own, and applies
    // again what it renders; the server finds nothing to change.
    const before = await settled(children);
    await first.restart();
    assert.deepEqual(await changedSince(before, children), [], 'the restart changed no child');
    await expectAdditions('after a restart');

    // What the operator renders is the operator's. An unforced apply of another value is refused,
    // naming the owner; a forced one, and a hand edit of a rendered label, are put back.
    const drift = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'edge-mta', namespace },
      spec: { externalTrafficPolicy: 'Cluster' },
    };
    const refused = await kubectl(['apply', '--server-side', '-f', '-'], {
      input: JSON.stringify(drift),
      check: false,
    });
    assert.notEqual(refused.exitCode, 0, 'the conflicting apply was refused');
    assert.match(refused.stderr, /conflict with "mtopo-operator".*\.spec\.externalTrafficPolicy/s);
    await kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], {
      input: JSON.stringify(drift),
    });
    await kubectl([
      'label',
      '--overwrite',
      '-n',
      namespace,
      'service',
      'edge-mta',
      'app.kubernetes.io/part-of=elsewhere',
    ]);
    // Replicas are rendered from the relay's spec.replicas: a scale (what an autoscaler would do)
    // is put back too. Scale the relay or pool instead.
    await kubectl(['scale', '-n', namespace, 'statefulset', 'edge-mta', '--replicas=5']);
    await liveWhen<StatefulSetOf<{ replicas?: number }>>(
      'the scale put back',
      edgeSet,
      (set) => set.spec?.replicas === 2,
    );
    const repaired = await liveWhen<KubernetesObject & { spec?: { externalTrafficPolicy?: string } }>(
      'the drift repaired',
      drift,
      (now) =>
        now.spec?.externalTrafficPolicy === 'Local' &&
        now.metadata?.labels?.['app.kubernetes.io/part-of'] === 'small',
    );
    assert.ok(
      pathsOf(repaired, OPERATOR).includes('f:spec/f:externalTrafficPolicy'),
      'the operator owns it again',
    );
    assert.ok(pathsOf(repaired, OPERATOR).includes('f:metadata/f:labels/f:app.kubernetes.io/part-of'));
    assert.ok(
      !writers(repaired).some((w) => w === 'kubectl Apply' || w.startsWith('kubectl-label ')),
      `the forced apply and the label edit left nothing behind: ${JSON.stringify(writers(repaired))}`,
    );
    await settled(children);
    await expectAdditions('after the drift was repaired');
  });

  it('Flux applying `mtopo render` output beside the custom resources co-owns it with equal values', async (t) => {
    const namespace = await createTestNamespace(t);
    const git = exampleIn(namespace);
    const rendered = await mtopoRender(git);
    const first = operatorOn(t, namespace);
    // One sync of the whole Git path: the custom resources and what `mtopo render` printed for them.
    await fluxSync([...git, ...rendered]);
    await converged(namespace, rendered);
    const settledAt = await settled([...git, ...rendered]);

    for (const child of await Promise.all(rendered.map(live))) {
      assert.deepEqual(
        writers(child).filter((w) => !w.endsWith(' status')),
        [`${FLUX} Apply`, `${OPERATOR} Apply`],
        `${key(child)}: both apply it`,
      );
      const flux = new Set(pathsOf(child, FLUX));
      const shared = pathsOf(child, OPERATOR).filter((p) => flux.has(p));
      assert.ok(shared.length > 0, `${key(child)}: they co-own the rendered fields`);
      assert.equal(
        child.metadata?.ownerReferences?.[0]?.controller,
        true,
        `${key(child)}: the operator adopted it`,
      );
      for (const [label, value] of Object.entries(FLUX_LABELS))
        assert.equal(child.metadata?.labels?.[label], value);
    }

    // Flux's drift detection, a dry-run apply each interval: nothing would change.
    const dryRun = await fluxSync([...git, ...rendered], { dryRun: true });
    for (const [i, object] of [...git, ...rendered].entries()) {
      assert.deepEqual(comparable(dryRun[i]!), comparable(await live(object)), `${key(object)}: no drift`);
    }
    // Flux's next syncs. The first may hand to Flux the atomic fields whose stored form carries
    // defaults the render leaves out (a volumeClaimTemplate, an env fieldRef): a write of
    // managedFields alone, every value as it was. The second writes nothing, nor does a resync.
    const everything = [...git, ...rendered];
    const before = await objectsNow(everything);
    assert.deepEqual(versionsOf(before), settledAt);
    await fluxSync(everything);
    const afterSync = await objectsNow(everything);
    assertSameValues(before, afterSync, "after Flux's sync");
    await fluxSync(everything);
    const appliesBefore = await first.applies();
    await first.reconciled('the resync', () => first.operator.resync());
    assert.equal((await first.applies()) - appliesBefore, 0, 'the resync applied nothing');
    assert.deepEqual(
      await changedSince(versionsOf(afterSync), everything),
      [],
      "Flux's second sync and the resync wrote nothing",
    );

    // A restart: the operator remembers nothing and applies again what Flux co-owns (taking those
    // atomic fields back); the values stay, and Flux's syncs after it settle the same way.
    await first.restart();
    // Its applies done (one reconcile per informer's first list may follow another), Flux syncs.
    await settled(everything);
    await fluxSync(everything);
    const afterRestart = await objectsNow(everything);
    assertSameValues(before, afterRestart, 'after the restart and a sync');
    await fluxSync(everything);
    await settled(everything);
    const flipped = await changedSince(versionsOf(afterRestart), everything);
    const who = await Promise.all(
      flipped.map(async (k) => {
        const o = await live(everything.find((x) => key(x) === k)!);
        return `${k}: ${JSON.stringify(o.metadata?.managedFields?.map((e) => [e.manager, e.subresource, e.time]))}`;
      }),
    );
    assert.deepEqual(flipped, [], `nothing flips back and forth: ${who.join('; ')}`);
  });
});

/** Each object as the API server has it now, by "Kind/name". */
async function objectsNow(objects: readonly KubernetesObject[]): Promise<Map<string, KubernetesObject>> {
  const found = await Promise.all(objects.map(live));
  return new Map(found.map((o) => [key(o), o]));
}

const versionsOf = (objects: Map<string, KubernetesObject>) =>
  new Map([...objects].map(([k, o]) => [k, o.metadata?.resourceVersion ?? '']));

/** Every object holds the same values (and generation) in both: at most managedFields differ. */
function assertSameValues(
  before: Map<string, KubernetesObject>,
  after: Map<string, KubernetesObject>,
  when: string,
): void {
  for (const [k, o] of before) assert.deepEqual(comparable(after.get(k)!), comparable(o), `${k}: ${when}`);
}

/** What a team adds to two children: partial objects, as `kubectl apply --server-side` takes them. */
function teamAdditions(namespace: string): KubernetesObject[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'edge-mta',
        namespace,
        labels: { [ADDED.team]: 'mail' },
        annotations: { [ADDED.onCall]: 'mail-team' },
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'edge-mta', namespace, annotations: { [ADDED.owner]: 'mail-team' } },
      spec: { template: { metadata: { annotations: { [ADDED.backup]: 'daily' } } } },
    } as KubernetesObject,
  ];
}

/** An object as a diff compares it: without the server's bookkeeping and status. */
function comparable(o: KubernetesObject): unknown {
  const { managedFields: _m, resourceVersion: _r, ...metadata } = o.metadata ?? {};
  const { status: _s, ...rest } = o as KubernetesObject & { status?: unknown };
  return { ...rest, metadata };
}
