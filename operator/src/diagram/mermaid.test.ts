import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Flow, FlowEnd } from '../render/firewall/flows.ts';
import { allTiers, publishedHostnames } from '../render/site.ts';
import { BARE_SITE, EXAMPLES, loadExample, siteFromYaml } from './fixtures.ts';
import { renderMermaid } from './mermaid.ts';

interface Parsed {
  /** Node id → its label, as written (lines joined by <br/>). */
  nodes: Map<string, string>;
  /** Subgraph id → the ids of its nodes. */
  subgraphs: Map<string, string[]>;
  edges: { from: string; to: string; arrow: string; label: string[] }[];
}

const ID = '[A-Za-z][A-Za-z0-9_]*';

/** Reads back the parts of the flowchart this renderer writes. */
function parse(text: string): Parsed {
  const nodes = new Map<string, string>();
  const subgraphs = new Map<string, string[]>();
  const edges: Parsed['edges'] = [];
  let current: string[] | undefined;
  for (const line of text.split('\n')) {
    const sub = new RegExp(`^  subgraph (${ID})\\["[^"]*"\\]$`).exec(line);
    if (sub) {
      current = [];
      subgraphs.set(sub[1]!, current);
      continue;
    }
    if (line === '  end') {
      current = undefined;
      continue;
    }
    const edge = new RegExp(`^  (${ID}) (-->|==>|-\\.->|~~~)(?:\\|"([^"]*)"\\|)? (${ID})$`).exec(line);
    if (edge) {
      edges.push({
        from: edge[1]!,
        arrow: edge[2]!,
        label: edge[3] ? edge[3].split('<br/>') : [],
        to: edge[4]!,
      });
      continue;
    }
    const node = new RegExp(`^ +(${ID})[[(/]+"([^"]*)"[\\])\\\\]+$`).exec(line);
    if (node) {
      nodes.set(node[1]!, node[2]!);
      current?.push(node[1]!);
    }
  }
  return { nodes, subgraphs, edges };
}

const firstLine = (label: string) => label.split('<br/>')[0];

function idOf(parsed: Parsed, end: FlowEnd): string {
  const title = end.kind === 'tier' ? end.tier.name : end.zone.replace(/^(clients|legacy):/, '');
  const prefix = end.kind === 'tier' ? 'tier_' : 'zone_';
  const found = [...parsed.nodes].filter(
    ([id, label]) => id.startsWith(prefix) && firstLine(label) === title,
  );
  if (end.kind === 'zone' && end.zone === 'directory') return 'zone_directory';
  assert.equal(found.length, 1, `one node for ${title}`);
  return found[0]![0];
}

for (const name of EXAMPLES) {
  describe(`Mermaid picture of examples/${name}.yaml`, () => {
    const { site, flows } = loadExample(name);
    const text = renderMermaid(site, flows);
    const parsed = parse(text);
    const { mx, clients } = publishedHostnames(site);
    const balancerOf = (tierId: string) =>
      parsed.edges.find((e) => e.to === tierId && e.arrow === '-.->' && e.from.startsWith('lb_'))?.from;

    it('is a left-to-right flowchart with a title', () => {
      assert.match(
        text,
        /^---\ntitle: "Messaging topology [a-z0-9-]+ \(namespace [a-z0-9-]+\)"\n---\nflowchart LR\n/,
      );
    });

    it('draws every tier with its role and replicas', () => {
      for (const tier of allTiers(site)) {
        const id = idOf(parsed, { kind: 'tier', tier });
        assert.match(parsed.nodes.get(id)!, new RegExp(`^${tier.name}<br/>[^<]+ ×${tier.replicas}`));
      }
    });

    it('draws every flow with its well-known ports', () => {
      for (const flow of flows) {
        const from = idOf(parsed, flow.from);
        const to = idOf(parsed, flow.to);
        const entry = (flow.from.kind === 'zone' && balancerOf(to)) || to;
        const edge = parsed.edges.find((e) => e.from === from && e.to === entry && e.arrow !== '~~~');
        assert.ok(edge, `${from} -> ${entry} (${flow.purpose})`);
        for (const port of flow.ports) {
          assert.ok(
            edge.label.some((line) => {
              const [numbers, protocol] = line.split(' ');
              return (
                numbers!.split('/').includes(String(port.wellKnown)) &&
                port.label.startsWith(protocol!.replace(/s$/, ''))
              );
            }),
            `${port.wellKnown} ${port.label} on ${from} -> ${entry}: ${edge.label.join(', ')}`,
          );
        }
      }
    });

    it('merges parallel flows into one edge', () => {
      const keys = parsed.edges.filter((e) => e.arrow !== '~~~').map((e) => `${e.from}>${e.to}`);
      assert.equal(new Set(keys).size, keys.length);
      const pairs = new Set(flows.map((f: Flow) => `${idOf(parsed, f.from)}>${idOf(parsed, f.to)}`));
      assert.ok(keys.length <= pairs.size * 2);
    });

    it('has no edge from the internet to a store, the directory or an inbound MTA', () => {
      const forbidden = new Set(
        [site.store, ...site.relays.filter((r) => r.role === 'inbound')].map((t) =>
          idOf(parsed, { kind: 'tier', tier: t }),
        ),
      );
      forbidden.add('zone_directory');
      const reached = new Set<string>();
      let frontier = ['zone_internet'];
      while (frontier.length > 0) {
        const next = parsed.edges
          .filter((e) => frontier.includes(e.from) && e.arrow !== '~~~')
          .map((e) => e.to);
        for (const id of next) reached.add(id);
        frontier = next.filter((id) => id.startsWith('lb_'));
      }
      for (const id of reached) assert.ok(!forbidden.has(id), `the internet reaches ${id}`);
    });

    it('shows the MX name on the internet MTA’s load balancer and the client name on the MMP’s', () => {
      const edgeTier = site.relays.find((r) => r.role === 'internet')!;
      const edgeLb = balancerOf(idOf(parsed, { kind: 'tier', tier: edgeTier }));
      assert.ok(edgeLb);
      assert.match(parsed.nodes.get(edgeLb)!, new RegExp(`MX ${mx.replace(/\./g, '\\.')}`));
      for (const pool of site.pools) {
        const lb = balancerOf(idOf(parsed, { kind: 'tier', tier: pool }));
        assert.ok(lb);
        assert.ok(parsed.nodes.get(lb)!.includes(clients));
        assert.ok(!parsed.nodes.get(lb)!.includes(mx), 'the MMP is never an MX target');
      }
    });

    it('groups nodes into the zones of the classic picture', () => {
      const has = (area: string, id: string) => parsed.subgraphs.get(`area_${area}`)?.includes(id) ?? false;
      assert.ok(has('internet', 'zone_internet'));
      assert.ok(has('directory', 'zone_directory'));
      for (const tier of allTiers(site)) {
        const area = tier.zone === 'dmz' ? 'dmz' : tier.zone === 'access' ? 'access' : 'internal';
        assert.ok(has(area, idOf(parsed, { kind: 'tier', tier })), tier.name);
      }
      for (const zone of site.topology.spec.network.clientZones)
        assert.ok(has('clients', `zone_clients_${zone.name.replace(/-/g, '_')}`));
      for (const system of site.topology.spec.network.legacySystems) {
        assert.ok(has('legacy', `zone_legacy_${system.name.replace(/-/g, '_')}`));
      }
    });

    it('says that everything not drawn is blocked', () => {
      assert.match(
        parsed.nodes.get('legend') ?? '',
        /everything else is blocked by default-deny NetworkPolicies/,
      );
    });

    it('uses only safe ids and escapes labels', () => {
      for (const id of [...parsed.nodes.keys(), ...parsed.subgraphs.keys()]) {
        assert.match(id, /^[a-z][a-z0-9_]*$/);
        assert.notEqual(id, 'end');
      }
      for (const label of parsed.nodes.values()) assert.doesNotMatch(label.replace(/<br\/>/g, ''), /[<>"]/);
    });

    it('is deterministic and matches the golden file', () => {
      assert.equal(renderMermaid(loadExample(name).site, loadExample(name).flows), text);
      const golden = new URL(`testdata/${name}.mmd`, import.meta.url);
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, text);
      assert.equal(text, readFileSync(golden, 'utf8'), 'run UPDATE_GOLDEN=1 to accept the new picture');
    });
  });
}

describe('Mermaid options', () => {
  it('leaves the legend out on request', () => {
    const { site, flows } = loadExample('minimal');
    const text = renderMermaid(site, flows, { legend: false, title: 'Small site' });
    assert.doesNotMatch(text, /legend/);
    assert.match(text, /^title: "Small site"$/m);
  });
});

describe('Mermaid picture of a bare site', () => {
  it('draws the stores alone, with no links to style', () => {
    const { site, flows } = siteFromYaml(BARE_SITE);
    const text = renderMermaid(site, flows);
    const parsed = parse(text);
    assert.deepEqual([...parsed.subgraphs.keys()], ['area_internal']);
    assert.deepEqual(parsed.edges, []);
    assert.doesNotMatch(text, /linkStyle/);
    assert.match(parsed.nodes.get('tier_bare_store') ?? '', /^bare-store<br\/>message store ×2$/);
  });
});
