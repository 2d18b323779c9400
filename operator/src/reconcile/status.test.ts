import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import { renderSite } from '../render/render.ts';
import type { Finding, Site, Tier } from '../render/site.ts';
import { loadExample, loadManifest, REPO_ROOT } from '../render/test-support.ts';
import {
  allReadyMessage,
  findingsFor,
  invalidSpecConditions,
  memberStatus,
  orphanStatus,
  siteConditions,
  tierState,
  topologyStatus,
  type Observed,
  type TierState,
} from './status.ts';

const NOW = '2026-01-02T00:00:00Z';
const minimal = renderSite(loadExample('minimal')).site;

function tierNamed(site: Site, name: string): Tier {
  const tier = [site.store, ...site.relays, ...site.pools].find((t) => t.name === name);
  assert.ok(tier, name);
  return tier;
}

/** A workload as the controllers report it. */
function workload(
  kind: 'StatefulSet' | 'Deployment',
  name: string,
  status: { observedGeneration?: number; readyReplicas?: number; updatedReplicas?: number },
  generation = 1,
): [string, KubernetesObject] {
  return [`${kind}/${name}`, { kind, metadata: { name, generation }, status } as KubernetesObject];
}

describe('tierState', () => {
  const store = minimal.store;
  const cases: {
    title: string;
    observed: Observed;
    ready: boolean;
    rollingOut: boolean;
    readyReplicas: number;
  }[] = [
    {
      title: 'no workload yet: rolling out, not ready',
      observed: new Map(),
      ready: false,
      rollingOut: true,
      readyReplicas: 0,
    },
    {
      title: 'a status of an older generation counts no replica as ready',
      observed: new Map([
        workload(
          'StatefulSet',
          'small-store',
          { observedGeneration: 1, readyReplicas: 1, updatedReplicas: 1 },
          2,
        ),
      ]),
      ready: false,
      rollingOut: true,
      readyReplicas: 0,
    },
    {
      title: 'all replicas ready and updated: ready, stable',
      observed: new Map([
        workload('StatefulSet', 'small-store', {
          observedGeneration: 1,
          readyReplicas: 1,
          updatedReplicas: 1,
        }),
      ]),
      ready: true,
      rollingOut: false,
      readyReplicas: 1,
    },
    {
      title: 'ready but not yet updated: still rolling out',
      observed: new Map([
        workload('StatefulSet', 'small-store', {
          observedGeneration: 1,
          readyReplicas: 1,
          updatedReplicas: 0,
        }),
      ]),
      ready: false,
      rollingOut: true,
      readyReplicas: 1,
    },
  ];
  for (const c of cases) {
    it(c.title, () => {
      const state = tierState(minimal, store, c.observed);
      assert.equal(state.ready, c.ready);
      assert.equal(state.rollingOut, c.rollingOut);
      assert.equal(state.readyReplicas, c.readyReplicas);
    });
  }

  it('gives load-balanced tiers the addresses of their load balancer, internal ones their Service name', () => {
    const service = {
      kind: 'Service',
      metadata: { name: 'edge-mta' },
      status: { loadBalancer: { ingress: [{ ip: '203.0.113.25' }, { hostname: 'lb.example' }] } },
    } as KubernetesObject;
    const observed: Observed = new Map([['Service/edge-mta', service]]);
    assert.deepEqual(tierState(minimal, tierNamed(minimal, 'edge-mta'), observed).addresses, [
      '203.0.113.25',
      'lb.example',
    ]);
    assert.deepEqual(tierState(minimal, tierNamed(minimal, 'inbound-mta'), observed).addresses, [
      'inbound-mta.small-mail.svc',
    ]);
  });
});

describe('siteConditions', () => {
  const state = (ready: boolean, rollingOut: boolean): TierState => ({
    tier: minimal.store,
    replicas: 1,
    readyReplicas: ready ? 1 : 0,
    ready,
    rollingOut,
    addresses: [],
  });
  const warning: Finding = { owner: { kind: 'MessagingTopology', name: 'small' }, message: 'no inbound' };
  const failure: Finding = {
    owner: { kind: 'MessagingTopology', name: 'small' },
    message: 'ConfigMap x: 403',
  };
  const cases: {
    title: string;
    states: TierState[];
    warnings: Finding[];
    errors: Finding[];
    expect: [ready: string, progressing: string, degraded: string, stalled: string];
  }[] = [
    {
      title: 'all ready, nothing wrong',
      states: [state(true, false)],
      warnings: [],
      errors: [],
      expect: ['AllTiersReady', 'Stable', 'AsExpected', 'AsExpected'],
    },
    {
      title: 'rolling out',
      states: [state(false, true)],
      warnings: [],
      errors: [],
      expect: ['TiersNotReady', 'RollingOut', 'AsExpected', 'AsExpected'],
    },
    {
      title: 'a warning degrades',
      states: [state(true, false)],
      warnings: [warning],
      errors: [],
      expect: ['AllTiersReady', 'Stable', 'IncompleteTopology', 'AsExpected'],
    },
    {
      title: 'an apply error outranks a warning',
      states: [state(true, false)],
      warnings: [warning],
      errors: [failure],
      expect: ['AllTiersReady', 'Stable', 'ApplyFailed', 'AsExpected'],
    },
  ];
  for (const c of cases) {
    it(c.title, () => {
      const conditions = siteConditions(c.states, c.warnings, c.errors, 3);
      assert.deepEqual(
        conditions.map((x) => x.reason),
        c.expect,
      );
      assert.ok(conditions.every((x) => x.observedGeneration === 3));
    });
  }

  it('says which tiers it waits for, and what is wrong, in the messages', () => {
    const [ready, , degraded] = siteConditions([state(false, true)], [], [failure], 1);
    assert.equal(ready?.message, 'Waiting for small-store 0/1 ready.');
    assert.equal(degraded?.message, 'ConfigMap x: 403');
  });

  describe("Ready's message counts the tiers in words that agree with the count", () => {
    const ready = (tier: Tier): TierState => ({ ...state(true, false), tier });
    const relays = minimal.relays.map(ready);
    const cases: { title: string; states: TierState[]; message: string }[] = [
      {
        title: 'one tier (a member)',
        states: [ready(minimal.store)],
        message: 'The small-store tier is ready.',
      },
      {
        title: 'two tiers',
        states: [ready(minimal.store), relays[0]!],
        message: 'All 2 tiers are ready.',
      },
      {
        title: 'every tier of the site',
        states: [ready(minimal.store), ...relays, ...minimal.pools.map(ready)],
        message: `All ${1 + minimal.relays.length + minimal.pools.length} tiers are ready.`,
      },
      { title: 'no tier at all', states: [], message: 'There is no tier to run.' },
    ];
    for (const c of cases)
      it(c.title, () => {
        assert.equal(allReadyMessage(c.states), c.message);
        const [condition] = siteConditions(c.states, [], [], 1);
        assert.equal(condition?.reason, 'AllTiersReady');
        assert.equal(condition?.message, c.message);
      });
  });

  it('marks an invalid spec on every condition, and as stalled', () => {
    assert.deepEqual(
      invalidSpecConditions('bad', 2).map((c) => [c.type, c.status, c.reason]),
      [
        ['Ready', 'False', 'InvalidSpec'],
        ['Progressing', 'False', 'InvalidSpec'],
        ['Degraded', 'True', 'InvalidSpec'],
        ['Stalled', 'True', 'InvalidSpec'],
      ],
    );
  });
});

describe('topologyStatus', () => {
  it('publishes the ports each tier serves, from the port catalogue and its own listeners', () => {
    const balanced = (name: string, ip: string): [string, KubernetesObject] => [
      `Service/${name}`,
      {
        kind: 'Service',
        metadata: { name },
        status: { loadBalancer: { ingress: [{ ip }] } },
      } as KubernetesObject,
    ];
    const observed: Observed = new Map([
      balanced('edge-mta', '203.0.113.25'),
      balanced('access-mmp', '203.0.113.143'),
    ]);
    const status = topologyStatus(minimal, observed, [], [], undefined, NOW);
    // examples/minimal.yaml's pool serves imap and imaps only; its SMTP proxy is off.
    assert.deepEqual(
      status.endpoints?.map((e) => [e.name, e.address, e.ports]),
      [
        ['mx', '203.0.113.25', [25]],
        ['clients', '203.0.113.143', [143, 993]],
        ['submission', 'outbound-mta.small-mail.svc', [587, 465]],
      ],
    );
    const siroe = renderSite(loadExample('siroe')).site;
    const inside = topologyStatus(
      siroe,
      new Map([balanced('access-mmp', '203.0.113.143')]),
      [],
      [],
      undefined,
      NOW,
    );
    const clients = inside.endpoints?.find((e) => e.name === 'clients');
    assert.deepEqual(
      clients?.ports,
      [143, 993, 110, 995, 587, 465],
      'with the SMTP proxy on, submission too',
    );
  });

  it('counts ready tiers and reports every tier by kind and role', () => {
    const observed: Observed = new Map([
      workload('StatefulSet', 'small-store', { observedGeneration: 1, readyReplicas: 1, updatedReplicas: 1 }),
    ]);
    const status = topologyStatus(minimal, observed, [], [], undefined, NOW);
    assert.equal(status.ready, '1/5');
    assert.deepEqual(status.tiers?.[0], {
      name: 'small-store',
      kind: 'MessagingTopology',
      role: 'store',
      replicas: 1,
      readyReplicas: 1,
    });
  });

  it('names every store a mailHost may hold, by pod name and DNS name, as many as the spec asks', () => {
    const text = readFileSync(`${REPO_ROOT}examples/minimal.yaml`, 'utf8');
    const three = renderSite(
      loadManifest(
        text.replace(
          '  domains: [small.example]\n',
          '  domains: [small.example]\n  stores: { replicas: 3 }\n',
        ),
      ),
    ).site;
    const status = topologyStatus(three, new Map(), [], [], undefined, NOW);
    assert.deepEqual(
      status.mailHosts,
      [0, 1, 2].map((i) => ({
        name: `small-store-${i}`,
        host: `small-store-${i}.small-store.small-mail.svc.cluster.local`,
      })),
    );
  });
});

describe('memberStatus', () => {
  const text = readFileSync(`${REPO_ROOT}examples/minimal.yaml`, 'utf8');
  const eu = `${text}\n---\napiVersion: mtopo.dev/v1alpha1\nkind: MTARelay\nmetadata:\n  name: outbound-eu\n  namespace: small-mail\nspec:\n  topologyRef: { name: small }\n  role: outbound\n  replicas: 1\n`;
  const site = renderSite(loadManifest(eu)).site;
  const findings: Finding[] = [
    { owner: { kind: 'MTARelay', name: 'outbound-eu' }, message: 'MTARelay outbound-eu: something is off' },
  ];

  it('shows a relay its own warnings only, never those of a relay whose name starts like its own', () => {
    const degraded = (name: string) =>
      memberStatus(site, tierNamed(site, name), 1, new Map(), findings, [], undefined, NOW).conditions?.find(
        (c) => c.type === 'Degraded',
      );
    assert.equal(degraded('outbound-mta')?.reason, 'AsExpected');
    assert.equal(degraded('outbound-eu-mta')?.reason, 'IncompleteTopology');
    assert.equal(degraded('outbound-eu-mta')?.message, 'MTARelay outbound-eu: something is off');
  });

  it('gives a pool the protocols it serves as kubectl prints its own columns, and a relay none', () => {
    const pool = site.pools[0]!;
    const of = (name: string) =>
      memberStatus(site, tierNamed(site, name), 1, new Map(), [], [], undefined, NOW);
    assert.equal(of(pool.name).protocols, 'imap,imaps');
    assert.equal(of('outbound-mta').protocols, undefined);
  });

  it('matches owners by kind as well as name', () => {
    assert.deepEqual(findingsFor({ kind: 'MMPPool', name: 'outbound-eu' }, findings), []);
  });

  it('tells an orphaned relay how to fix it', () => {
    const status = orphanStatus('MTARelay', 'small', 'mail', 4, undefined, NOW);
    assert.equal(status.observedGeneration, 4);
    assert.match(
      status.conditions?.[0]?.message ?? '',
      /MessagingTopology "small" does not exist in namespace mail/,
    );
  });
});
