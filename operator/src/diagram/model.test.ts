import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { infrastructureFlows, type Flow, type FlowPort } from '../render/firewall/flows.ts';
import { allTiers, publishedHostnames } from '../render/site.ts';
import { EXAMPLES, loadExample, siteFromYaml } from './fixtures.ts';
import { buildModel, nodeOfEnd, portLines, type DiagramModel, type DiagramNode } from './model.ts';

/** Where a flow enters its destination: the load balancer in front of it when it comes from outside. */
function entryOf(model: DiagramModel, flow: Flow): DiagramNode {
  const to = nodeOfEnd(model, flow.to);
  assert.ok(to, 'destination drawn');
  if (flow.from.kind === 'zone' && flow.to.kind === 'tier') {
    const name = flow.to.tier.name;
    const balancer = model.nodes.find((n) => n.kind === 'balancer' && n.tier?.name === name);
    if (balancer) return balancer;
  }
  return to;
}

const samePort = (a: FlowPort, b: FlowPort) =>
  a.port === b.port && a.protocol === b.protocol && a.label === b.label;

for (const name of EXAMPLES) {
  describe(`diagram model of examples/${name}.yaml`, () => {
    const { site, flows } = loadExample(name);
    const model = buildModel(site, flows);

    it('has a node for every tier', () => {
      for (const tier of allTiers(site)) {
        const nodes = model.nodes.filter((n) => n.kind === 'tier' && n.tier?.name === tier.name);
        assert.equal(nodes.length, 1, tier.name);
        assert.equal(nodes[0]!.title, tier.name);
        assert.match(nodes[0]!.details[0] ?? '', new RegExp(`×${tier.replicas}$`));
      }
    });

    it('draws every flow as an edge carrying its ports', () => {
      for (const flow of flows) {
        const from = nodeOfEnd(model, flow.from)!;
        const entry = entryOf(model, flow);
        const edge = model.edges.find((e) => e.from === from.id && e.to === entry.id && e.kind === 'flow');
        assert.ok(edge, `${from.id} -> ${entry.id} for "${flow.purpose}"`);
        assert.ok(edge.flows.includes(flow));
        for (const port of flow.ports)
          assert.ok(
            edge.ports.some((p) => samePort(p, port)),
            `${port.label} on ${from.id} -> ${entry.id}`,
          );
        if (entry.kind === 'balancer') {
          const behind = nodeOfEnd(model, flow.to)!;
          assert.ok(
            model.edges.some(
              (e) =>
                e.kind === 'balancer' && e.from === entry.id && e.to === behind.id && e.flows.includes(flow),
            ),
          );
        }
      }
    });

    it('draws nothing that is not a flow', () => {
      const drawn = new Set(model.edges.flatMap((e) => e.flows));
      assert.deepEqual(
        [...drawn].filter((f) => !flows.includes(f)),
        [],
      );
      for (const edge of model.edges.filter((e) => e.kind === 'flow')) {
        const expected: FlowPort[] = [];
        for (const flow of edge.flows)
          for (const p of flow.ports) if (!expected.some((q) => samePort(p, q))) expected.push(p);
        assert.deepEqual(edge.ports, expected);
      }
    });

    it('merges parallel flows between the same two ends into one edge', () => {
      const keys = model.edges.map((e) => `${e.from}>${e.to}`);
      assert.equal(new Set(keys).size, keys.length);
      const doubled = buildModel(site, [...flows, ...flows]);
      assert.equal(doubled.edges.length, model.edges.length);
      assert.deepEqual(
        doubled.edges.map((e) => e.label),
        model.edges.map((e) => e.label),
      );
    });

    it('lets the internet reach no store, no directory and no inbound MTA', () => {
      const internet = model.nodes.find((n) => n.zone === 'internet');
      if (!internet) return;
      // Follow the internet's edges through load balancers to the tiers they reach.
      const reached = new Set<string>();
      let frontier = [internet.id];
      while (frontier.length > 0) {
        const next: string[] = [];
        for (const id of frontier) {
          for (const edge of model.edges.filter((e) => e.from === id)) {
            const to = model.nodes.find((n) => n.id === edge.to)!;
            reached.add(to.id);
            if (to.kind === 'balancer') next.push(to.id);
          }
        }
        frontier = next;
      }
      for (const id of reached) {
        const node = model.nodes.find((n) => n.id === id)!;
        assert.notEqual(node.tier?.role, 'store', id);
        assert.notEqual(node.tier?.role, 'inbound', id);
        assert.notEqual(node.zone, 'directory', id);
      }
      assert.ok(
        [...reached].some((id) => model.nodes.find((n) => n.id === id)?.tier?.role === 'internet'),
        'the internet reaches the internet-facing MTA',
      );
    });

    it('puts the MX name on the internet MTAs’ load balancer and never on the MMP’s', () => {
      const { mx, clients } = publishedHostnames(site);
      const balancers = model.nodes.filter((n) => n.kind === 'balancer');
      const edge = balancers.find((n) => n.tier?.role === 'internet');
      const mmp = balancers.find((n) => n.tier?.role === 'mmp');
      assert.ok(edge && mmp);
      assert.ok(edge.details.includes(`MX ${mx}`));
      assert.ok(mmp.details.includes(clients));
      for (const node of model.nodes.filter((n) => n.tier?.role === 'mmp')) {
        assert.ok(!node.details.some((d) => d.includes(mx)), node.id);
      }
    });

    it('uses ids that Mermaid and DOT accept, each once', () => {
      for (const node of model.nodes) assert.match(node.id, /^[a-z][a-z0-9_]*$/);
      assert.equal(new Set(model.nodes.map((n) => n.id)).size, model.nodes.length);
    });

    it('marks the walls each edge passes', () => {
      const byRole = (role: string) => model.nodes.find((n) => n.kind === 'tier' && n.tier?.role === role)!;
      const store = byRole('store');
      for (const edge of model.edges.filter((e) => e.to === store.id)) {
        const from = model.nodes.find((n) => n.id === edge.from)!;
        assert.deepEqual(edge.walls, from.area === 'internal' ? [] : ['inner'], edge.from);
      }
      const internet = model.nodes.find((n) => n.zone === 'internet')!;
      for (const edge of model.edges.filter((e) => e.from === internet.id))
        assert.deepEqual(edge.walls, ['outer']);
      const out = model.edges.find((e) => e.to === internet.id && e.from === byRole('outbound').id);
      assert.deepEqual(out?.walls, ['inner', 'outer']);
    });
  });
}

describe('port lines', () => {
  const p = (wellKnown: number, label: string, protocol: 'TCP' | 'UDP' = 'TCP'): FlowPort => ({
    port: wellKnown + 1000,
    wellKnown,
    protocol,
    label,
  });

  it('says ports as people know them, one protocol family a line', () => {
    assert.deepEqual(portLines([p(25, 'smtp')]), ['25 smtp']);
    assert.deepEqual(portLines([p(24, 'lmtp')]), ['24 lmtp']);
    assert.deepEqual(portLines([p(143, 'imap'), p(993, 'imaps'), p(110, 'pop3'), p(995, 'pop3s')]), [
      '143/993 imap',
      '110/995 pop3',
    ]);
    assert.deepEqual(portLines([p(993, 'imaps')]), ['993 imaps']);
    assert.deepEqual(portLines([p(587, 'submission'), p(465, 'submissions')]), ['587/465 submission']);
    assert.deepEqual(portLines([p(25, 'smtp'), p(2525, 'smtp-2525')]), ['25/2525 smtp']);
    assert.deepEqual(portLines([p(53, 'dns', 'UDP'), p(53, 'dns', 'TCP')]), ['53 dns (TCP+UDP)']);
  });
});

describe('diagram model with infrastructure flows', () => {
  it('draws DNS and monitoring in their own area', () => {
    const { site, flows } = siteFromYaml(`
apiVersion: mtopo.dev/v1alpha1
kind: MessagingTopology
metadata: {name: tiny, namespace: mail}
spec:
  domains: [tiny.example]
  directory: {urls: ['ldap://ldap.tiny.example:3389'], baseDN: dc=tiny, bindSecretRef: {name: b}, cidrs: [192.0.2.1/32]}
  network: {monitoringNamespaceSelector: {matchLabels: {team: obs}}}
  tls: {secretRef: {name: t}}
`);
    const all = [...flows, ...infrastructureFlows(site, allTiers(site))];
    const model = buildModel(site, all);
    assert.ok(model.areas.some((a) => a.id === 'cluster'));
    const dns = model.nodes.find((n) => n.zone === 'dns');
    assert.ok(dns);
    const edge = model.edges.find((e) => e.to === dns.id);
    assert.deepEqual(edge?.label, ['53 dns (TCP+UDP)']);
    assert.ok(model.nodes.some((n) => n.zone === 'monitoring'));
    // A store alone: drawn, with no load balancer and no walls to pass.
    assert.deepEqual(
      model.nodes.filter((n) => n.kind === 'tier').map((n) => n.title),
      ['tiny-store'],
    );
  });

  it('keeps the published names on the tier when it has no load balancer', () => {
    const { site, flows } = siteFromYaml(`
apiVersion: mtopo.dev/v1alpha1
kind: MessagingTopology
metadata: {name: np, namespace: mail}
spec:
  domains: [np.example]
  directory: {urls: ['ldaps://ldap.np.example'], baseDN: dc=np, bindSecretRef: {name: b}, cidrs: [192.0.2.1/32]}
  network: {clientZones: [{name: lan, cidrs: [198.51.100.0/24]}]}
  tls: {secretRef: {name: t}}
---
apiVersion: mtopo.dev/v1alpha1
kind: MTARelay
metadata: {name: edge, namespace: mail}
spec: {topologyRef: {name: np}, role: internet, service: {type: NodePort}}
---
apiVersion: mtopo.dev/v1alpha1
kind: MMPPool
metadata: {name: access, namespace: mail}
spec: {topologyRef: {name: np}, service: {type: ClusterIP}}
`);
    const model = buildModel(site, flows);
    assert.equal(model.nodes.filter((n) => n.kind === 'balancer').length, 0);
    const edge = model.nodes.find((n) => n.title === 'edge-mta')!;
    const mmp = model.nodes.find((n) => n.title === 'access-mmp')!;
    assert.ok(edge.details.includes('MX mx.np.example'));
    assert.ok(mmp.details.includes('mail.np.example'));
    assert.ok(!mmp.details.some((d) => d.includes('mx.np.example')));
  });
});
