// Invariants of the firewall model (DESIGN §4), checked against the rendered NetworkPolicies
// themselves through the policy evaluator, over every tier, a set of outside addresses and a wide
// range of ports: not against the flow list they were made from.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubernetesObject, V1PodTemplateSpec } from '@kubernetes/client-node';
import { PORTS } from '../../../../images/lib/contract/ports.ts';
import { renderSite } from '../render.ts';
import { loadExample } from '../test-support.ts';
import { connectionAllowed, type Endpoint, type PodEndpoint } from './evaluate.ts';
import type { NetworkPolicy } from './policy-types.ts';

const PROBE_PORTS = [
  ...new Set([
    ...Object.values(PORTS).map((p) => p.container),
    ...Object.values(PORTS).map((p) => p.service),
    22,
    53,
    80,
    389,
    443,
    636,
    3306,
    6443,
  ]),
].sort((a, b) => a - b);

const outside = {
  internet: { kind: 'external', ip: '198.18.7.7' },
  internet6: { kind: 'external', ip: '2001:db8:77::7' },
  clusterPod: { kind: 'external', ip: '10.244.3.3' },
  directory: { kind: 'external', ip: '10.20.0.5' },
  legacy: { kind: 'external', ip: '10.30.5.10' },
  contractor: { kind: 'external', ip: '10.40.1.1' },
  engineer: { kind: 'external', ip: '10.50.1.1' },
} as const satisfies Record<string, Endpoint>;

const dnsPod: PodEndpoint = {
  kind: 'pod',
  namespace: 'kube-system',
  labels: { 'k8s-app': 'kube-dns' },
  namespaceLabels: { 'kubernetes.io/metadata.name': 'kube-system' },
  ip: '10.244.0.10',
};
const engineeringPod: PodEndpoint = {
  kind: 'pod',
  namespace: 'eng',
  labels: { app: 'thunderbird' },
  namespaceLabels: { 'kubernetes.io/metadata.name': 'eng', dept: 'engineering' },
  ip: '10.244.9.9',
};
const strangerPod: PodEndpoint = {
  kind: 'pod',
  namespace: 'web',
  labels: { app: 'blog' },
  namespaceLabels: { 'kubernetes.io/metadata.name': 'web' },
  ip: '10.244.8.8',
};

function build(example: string) {
  const { objects } = renderSite(loadExample(example));
  const policies = objects.filter((o): o is NetworkPolicy & KubernetesObject => o.kind === 'NetworkPolicy');
  const tiers = new Map<string, PodEndpoint>();
  let n = 20;
  for (const o of objects.filter((x) => x.kind === 'StatefulSet' || x.kind === 'Deployment')) {
    const template = (o as { spec: { template: V1PodTemplateSpec } }).spec.template;
    tiers.set(o.metadata!.name!, {
      kind: 'pod',
      namespace: o.metadata!.namespace!,
      labels: template.metadata!.labels!,
      namespaceLabels: { 'kubernetes.io/metadata.name': o.metadata!.namespace! },
      ip: `10.244.1.${n++}`,
    });
  }
  const tier = (name: string) => {
    const pod = tiers.get(name);
    assert.ok(pod, `tier ${name}`);
    return pod;
  };
  const allowed = (from: Endpoint, to: Endpoint, port: number, protocol: 'TCP' | 'UDP' = 'TCP') =>
    connectionAllowed(policies, { from, to, port, protocol });
  /** Every (destination, port) a source may reach, as "name:port" strings. */
  const reachableFrom = (from: Endpoint) => {
    const targets: [string, Endpoint][] = [
      ...[...tiers].map(([k, v]) => [k, v] as [string, Endpoint]),
      ...Object.entries(outside),
      ['dns', dnsPod],
      ['engineering-pod', engineeringPod],
    ];
    const out: string[] = [];
    for (const [name, to] of targets) {
      if (to === from) continue;
      for (const port of PROBE_PORTS) {
        if (allowed(from, to, port, 'TCP')) out.push(`${name}:${port}`);
        if (allowed(from, to, port, 'UDP')) out.push(`${name}:${port}/udp`);
      }
    }
    return out;
  };
  /** Every (tier, port) a source may reach. */
  const tiersReachableBy = (from: Endpoint) =>
    [...tiers]
      .flatMap(([name, to]) => PROBE_PORTS.filter((p) => allowed(from, to, p)).map((p) => `${name}:${p}`))
      .sort();
  return { tiers, tier, allowed, reachableFrom, tiersReachableBy };
}

describe('the firewall of examples/siroe.yaml', () => {
  const fw = build('siroe');

  it('lets the internet reach only the internet-facing MTA, on SMTP', () => {
    assert.deepEqual(fw.tiersReachableBy(outside.internet), ['edge-mta:2525']);
    assert.deepEqual(fw.tiersReachableBy(outside.internet6), ['edge-mta:2525']);
  });

  it('keeps the DMZ MTA to the inbound MTA on SMTP and DNS, nothing else', () => {
    assert.deepEqual(fw.reachableFrom(fw.tier('edge-mta')), ['inbound-mta:2525', 'dns:53', 'dns:53/udp']);
  });

  it('lets no tier the internet reaches talk to the directory or the stores', () => {
    for (const port of PROBE_PORTS) {
      assert.equal(fw.allowed(fw.tier('edge-mta'), outside.directory, port), false);
      assert.equal(fw.allowed(fw.tier('edge-mta'), fw.tier('siroe-store'), port), false);
    }
  });

  it('lets only the inbound and outbound MTAs (LMTP) and the MMPs (IMAP, POP) reach the stores', () => {
    const callers = [...fw.tiers]
      .filter(([name]) => name !== 'siroe-store')
      .flatMap(([name, pod]) =>
        PROBE_PORTS.filter((p) => fw.allowed(pod, fw.tier('siroe-store'), p)).map((p) => `${name}:${p}`),
      );
    assert.deepEqual(callers.sort(), [
      'access-mmp:1110',
      'access-mmp:1143',
      'inbound-mta:2424',
      'outbound-mta:2424',
    ]);
    for (const source of [...Object.values(outside), strangerPod, engineeringPod]) {
      assert.deepEqual(
        PROBE_PORTS.filter((p) => fw.allowed(source, fw.tier('siroe-store'), p)),
        [],
        `nothing outside reaches the stores`,
      );
    }
  });

  it('lets only the outbound MTA reach the internet on port 25', () => {
    const senders = [...fw.tiers]
      .filter(([, pod]) => fw.allowed(pod, outside.internet, 25))
      .map(([name]) => name);
    assert.deepEqual(senders, ['outbound-mta']);
  });

  it('lets only the gateway reach the legacy system', () => {
    const callers = [...fw.tiers]
      .filter(([, pod]) => PROBE_PORTS.some((p) => fw.allowed(pod, outside.legacy, p)))
      .map(([name]) => name);
    assert.deepEqual(callers, ['legacy-gw-mta']);
  });

  it('lets only the tiers that look users up reach the directory', () => {
    const callers = [...fw.tiers]
      .filter(([, pod]) => PROBE_PORTS.some((p) => fw.allowed(pod, outside.directory, p)))
      .map(([name]) => name);
    assert.deepEqual(callers.sort(), ['access-mmp', 'inbound-mta', 'outbound-mta']);
  });

  it('never exposes the MMP SMTP proxy on port 25', () => {
    for (const source of [outside.engineer, outside.contractor, outside.internet, engineeringPod]) {
      assert.equal(fw.allowed(source, fw.tier('access-mmp'), PORTS.smtp.container), false);
      assert.equal(fw.allowed(source, fw.tier('access-mmp'), 25), false);
    }
  });

  it('gives each client zone exactly the protocols it is allowed', () => {
    assert.deepEqual(fw.tiersReachableBy(outside.contractor), [
      'access-mmp:1110',
      'access-mmp:1143',
      'access-mmp:1993',
      'access-mmp:1995',
    ]);
    const engineering = [
      'access-mmp:1110',
      'access-mmp:1143',
      'access-mmp:1465',
      'access-mmp:1587',
      'access-mmp:1993',
      'access-mmp:1995',
    ];
    assert.deepEqual(fw.tiersReachableBy(outside.engineer), engineering);
    assert.deepEqual(fw.tiersReachableBy(engineeringPod), engineering, 'the zone by namespace too');
  });

  it('admits submission at the outbound MTA only from the MMP proxy when clients must use it', () => {
    const callers = [...fw.tiers]
      .filter(([, pod]) => fw.allowed(pod, fw.tier('outbound-mta'), PORTS.submission.container))
      .map(([name]) => name);
    assert.deepEqual(callers, ['access-mmp']);
    assert.equal(fw.allowed(outside.engineer, fw.tier('outbound-mta'), PORTS.submission.container), false);
  });

  it('denies pods of other namespaces by default', () => {
    assert.deepEqual(fw.tiersReachableBy(strangerPod), []);
    assert.deepEqual(fw.tiersReachableBy(outside.clusterPod), [], 'cluster ranges are not the internet');
  });
});

describe('the firewall of examples/minimal.yaml', () => {
  const fw = build('minimal');
  const office = { kind: 'external', ip: '198.51.100.7' } as const;

  it('lets the office submit at the outbound MTA directly and read mail by IMAP', () => {
    assert.deepEqual(fw.tiersReachableBy(office), [
      'access-mmp:1143',
      'access-mmp:1993',
      'outbound-mta:1465',
      'outbound-mta:1587',
    ]);
  });

  it('lets the internet reach only the internet-facing MTA', () => {
    assert.deepEqual(fw.tiersReachableBy(outside.internet), ['edge-mta:2525']);
  });
});
