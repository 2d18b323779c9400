import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LiveMember, LiveSite } from './live-site.ts';
import { statusReport } from './status-report.ts';

const ready = (message: string) => ({
  type: 'Ready',
  status: 'True' as const,
  reason: 'AllTiersReady',
  message,
  lastTransitionTime: '2026-12-02T00:00:00Z',
});

function relay(name: string, status?: LiveMember['status']): LiveMember {
  return {
    kind: 'MTARelay',
    metadata: { name, namespace: 'mail' },
    spec: { topologyRef: { name: 'siroe' } },
    ...(status ? { status } : {}),
  };
}

const site = (over: Partial<LiveSite['topology']> = {}, relays: LiveMember[] = []): LiveSite => ({
  topology: {
    kind: 'MessagingTopology',
    metadata: { name: 'siroe', namespace: 'mail', generation: 2 },
    spec: {},
    status: {
      observedGeneration: 2,
      conditions: [ready('All 2 tiers are ready.')],
      tiers: [
        { name: 'siroe-store', kind: 'MessagingTopology', role: 'store', replicas: 3, readyReplicas: 3 },
        { name: 'edge-mta', kind: 'MTARelay', role: 'internet', replicas: 2, readyReplicas: 2 },
      ],
      endpoints: [{ name: 'mx', address: '10.251.0.226', ports: [25] }],
      mailHosts: [0, 1, 2].map((i) => ({
        name: `siroe-store-${i}`,
        host: `siroe-store-${i}.siroe-store.mail.svc.cluster.local`,
      })),
      dnsRecords: [
        { type: 'MX', name: 'siroe.example', value: 'mx.siroe.example', priority: 10 },
        { type: 'A', name: 'mx.siroe.example', value: '10.251.0.226' },
      ],
    },
    ...over,
  },
  relays,
  pools: [],
});

const owners = new Map([
  ['siroe-store', { kind: 'MessagingTopology', name: 'siroe' }],
  ['edge-mta', { kind: 'MTARelay', name: 'edge' }],
]);

describe('statusReport', () => {
  it('shows a Ready site: conditions, tiers by resource, endpoints, stores, DNS records with MX preference', () => {
    const text = statusReport(
      site({}, [relay('edge', { conditions: [ready('The edge tier is ready.')] })]),
      owners,
    );
    assert.equal(
      text,
      [
        'MessagingTopology mail/siroe: Ready',
        '  Ready=True (AllTiersReady): All 2 tiers are ready.',
        '',
        'Tiers',
        '  TIER         RESOURCE                 ROLE      READY  STATE',
        '  siroe-store  MessagingTopology/siroe  store     3/3    Ready',
        '  edge-mta     MTARelay/edge            internet  2/2    Ready',
        '',
        'Endpoints',
        '  SERVES  ADDRESS       PORTS',
        '  mx      10.251.0.226  25',
        '',
        "Stores (a user's mailHost names one, by either name)",
        '  MAILHOST       DNS NAME',
        '  siroe-store-0  siroe-store-0.siroe-store.mail.svc.cluster.local',
        '  siroe-store-1  siroe-store-1.siroe-store.mail.svc.cluster.local',
        '  siroe-store-2  siroe-store-2.siroe-store.mail.svc.cluster.local',
        '',
        'DNS records to publish',
        '  NAME              TYPE  VALUE',
        '  siroe.example     MX    10 mx.siroe.example',
        '  mx.siroe.example  A     10.251.0.226',
        '',
      ].join('\n'),
    );
  });

  it('says when the status is of an older generation, and when nothing reconciled the site', () => {
    const stale = statusReport(
      site({ metadata: { name: 'siroe', namespace: 'mail', generation: 3 } }),
      owners,
    );
    assert.match(
      stale,
      /^MessagingTopology mail\/siroe: Ready \(status is of generation 2; the spec is at 3\)$/m,
    );
    const fresh = statusReport(site({ status: undefined }), owners);
    assert.equal(fresh, 'MessagingTopology mail/siroe: not reconciled yet (is the operator running?)\n');
  });

  it("gives a tier that is not ready its resource's own reason, and lists members not in the site yet", () => {
    const waiting = site({}, [
      relay('edge', {
        conditions: [
          {
            ...ready(''),
            status: 'False',
            reason: 'TiersNotReady',
            message: 'Waiting for edge-mta 1/2 ready.',
          },
        ],
      }),
      relay('outbound-eu'),
    ]);
    waiting.topology.status!.tiers![1]!.readyReplicas = 1;
    const text = statusReport(waiting, owners);
    assert.match(
      text,
      /^ {2}edge-mta +MTARelay\/edge +internet +1\/2 +TiersNotReady: Waiting for edge-mta 1\/2 ready\.$/m,
    );
    assert.match(text, /^Not part of the site yet\n {2}MTARelay\/outbound-eu: not reconciled yet$/m);
  });
});
