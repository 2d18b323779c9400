import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { allTiers, publishedHostnames } from '../render/site.ts';
import { BARE_SITE, EXAMPLES, loadExample, siteFromYaml } from './fixtures.ts';
import { renderDot, renderSvg } from './graphviz.ts';
import { buildModel, nodeOfEnd } from './model.ts';
import { renderDiagram } from './render-diagram.ts';

interface DotEdge {
  tail: string;
  head: string;
  attrs: string;
}

const ID = '[A-Za-z][A-Za-z0-9_]*';

function dotEdges(dot: string): DotEdge[] {
  return [...dot.matchAll(new RegExp(`^ +(${ID}) -> (${ID}) \\[(.*)\\];$`, 'gm'))].map((m) => ({
    tail: m[1]!,
    head: m[2]!,
    attrs: m[3]!,
  }));
}

/** The declaration line of a node: its attributes. */
function dotNode(dot: string, id: string): string | undefined {
  return new RegExp(`^ +${id} \\[(.*)\\];$`, 'm').exec(dot)?.[1];
}

/** Tags balance and nothing but the prolog stands before <svg: enough to call it well-formed XML here. */
function assertXmlish(svg: string): void {
  const body = svg
    .replace(/^<\?xml[^>]*\?>\s*/, '')
    .replace(/^<!DOCTYPE[^>]*>\s*/, '')
    .replace(/^(<!--[\s\S]*?-->\s*)*/, '');
  assert.match(body, /^<svg[\s>]/);
  assert.match(body, /<\/svg>\s*$/);
  const stack: string[] = [];
  for (const m of body.replace(/<!--[\s\S]*?-->/g, '').matchAll(/<(\/?)([A-Za-z][\w:.-]*)[^>]*?(\/?)>/g)) {
    const [, closing, tag, selfClosing] = m;
    if (selfClosing) continue;
    if (closing) assert.equal(stack.pop(), tag, 'tags close in order');
    else stack.push(tag!);
  }
  assert.deepEqual(stack, []);
  assert.doesNotMatch(
    body.replace(/&(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/g, ''),
    /&/,
    'entities escaped',
  );
}

for (const name of EXAMPLES) {
  describe(`Graphviz picture of examples/${name}.yaml`, () => {
    const { site, flows } = loadExample(name);
    const dot = renderDot(site, flows);
    const model = buildModel(site, flows);
    const edges = dotEdges(dot);

    it('is a left-to-right digraph with a cluster per zone and the two walls', () => {
      assert.match(dot, /^digraph mtopo \{\n {2}graph \[rankdir="LR"/);
      for (const area of model.areas) assert.match(dot, new RegExp(`subgraph cluster_${area.id} \\{`));
      assert.match(dot, /subgraph cluster_wall_outer \{/);
      assert.match(dot, /subgraph cluster_wall_inner \{/);
      assert.match(dot, /label=<<b>outer firewall<\/b>>/);
      assert.match(dot, /everything else is blocked by default-deny NetworkPolicies/);
    });

    it('colours the zones: DMZ amber, internal blue, access green, outside grey', () => {
      const fill = (area: string) =>
        new RegExp(`subgraph cluster_${area} \\{\\n    graph \\[[^\\]]*fillcolor="([^"]+)"`).exec(dot)?.[1];
      assert.equal(fill('dmz'), '#fff7e6');
      assert.equal(fill('internal'), '#edf4ff');
      assert.equal(fill('access'), '#ecf8ef');
      assert.equal(fill('internet'), '#f3f4f6');
    });

    it('draws every tier', () => {
      for (const tier of allTiers(site)) {
        const node = model.nodes.find((n) => n.tier?.name === tier.name && n.kind === 'tier')!;
        assert.match(dotNode(dot, node.id) ?? '', new RegExp(`label=<<b>${tier.name}</b>`));
      }
    });

    it('draws every flow, through an opening of each wall it passes, with its ports', () => {
      model.edges.forEach((edge, index) => {
        const path = [edge.from, ...edge.walls.map((w) => `wall_${w}_${index}`), edge.to];
        for (let i = 0; i < path.length - 1; i++) {
          const [a, b] = [path[i]!, path[i + 1]!];
          const found = edges.find((e) => (e.tail === a && e.head === b) || (e.tail === b && e.head === a));
          assert.ok(found, `segment ${a} - ${b}`);
          // The arrow points at the destination, whichever way the segment is declared.
          if (i === path.length - 2) {
            assert.match(found.attrs, found.head === b ? /dir="forward"/ : /dir="back"/);
          } else {
            assert.match(found.attrs, /dir="none"/);
          }
        }
        // The ports are written on the openings, or on the edge when it passes no wall.
        const carriers =
          edge.walls.length > 0
            ? edge.walls.map((w) => dotNode(dot, `wall_${w}_${index}`) ?? '')
            : [
                edges.find((e) => [e.tail, e.head].includes(edge.from) && [e.tail, e.head].includes(edge.to))!
                  .attrs,
              ];
        for (const carrier of carriers)
          for (const line of edge.label) assert.ok(carrier.includes(line), `${line} in ${carrier}`);
      });
      for (const flow of flows) {
        const from = nodeOfEnd(model, flow.from)!;
        assert.ok(
          model.edges.some((e) => e.from === from.id && e.flows.includes(flow) && e.kind === 'flow'),
          flow.purpose,
        );
      }
    });

    it('keeps the internet away from the stores, the directory and the inbound MTAs', () => {
      const internet = model.nodes.find((n) => n.zone === 'internet')!;
      const forbidden = model.nodes
        .filter(
          (n) =>
            n.zone === 'directory' ||
            (n.kind === 'tier' && (n.tier?.role === 'store' || n.tier?.role === 'inbound')),
        )
        .map((n) => n.id);
      model.edges.forEach((edge, index) => {
        if (edge.from !== internet.id) return;
        assert.ok(!forbidden.includes(edge.to), edge.to);
        const last = edge.walls.length > 0 ? `wall_${edge.walls.at(-1)!}_${index}` : edge.from;
        const declared = edges
          .filter((e) => e.tail === last || e.head === last)
          .flatMap((e) => [e.tail, e.head]);
        for (const id of forbidden)
          assert.ok(!declared.includes(id), `the internet's opening leads to ${id}`);
      });
    });

    it('writes the MX name on the internet MTA’s balancer only', () => {
      const { mx } = publishedHostnames(site);
      const holders = model.nodes.filter((n) => (dotNode(dot, n.id) ?? '').includes(`MX ${mx}`));
      assert.deepEqual(
        holders.map((n) => [n.kind, n.tier?.role]),
        [['balancer', 'internet']],
      );
    });

    it('is deterministic and matches the golden file', () => {
      const again = loadExample(name);
      assert.equal(renderDot(again.site, again.flows), dot);
      const golden = new URL(`testdata/${name}.dot`, import.meta.url);
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, dot);
      assert.equal(dot, readFileSync(golden, 'utf8'), 'run UPDATE_GOLDEN=1 to accept the new picture');
    });

    it('lays out as SVG that holds every tier, deterministically', async () => {
      const svg = await renderSvg(site, flows);
      assertXmlish(svg);
      for (const tier of allTiers(site)) assert.ok(svg.includes(`>${tier.name}</text>`), tier.name);
      assert.ok(svg.includes('outer firewall'));
      assert.doesNotMatch(svg, /sans-Serif/);
      assert.equal(await renderSvg(site, flows), svg);
    });
  });
}

describe('renderDiagram', () => {
  it('draws each format the CLI offers', async () => {
    const { site, flows } = loadExample('minimal');
    assert.match(await renderDiagram(site, flows, 'mermaid'), /^flowchart LR$/m);
    assert.match(await renderDiagram(site, flows, 'dot'), /^digraph mtopo \{/);
    assert.match(await renderDiagram(site, flows, 'svg'), /<svg[\s\S]*edge-mta[\s\S]*<\/svg>\s*$/);
  });
});

describe('Graphviz picture of a bare site', () => {
  it('draws a site with nothing but its stores, and no walls', async () => {
    const { site, flows } = siteFromYaml(BARE_SITE);
    const dot = renderDot(site, flows);
    assert.doesNotMatch(dot, /cluster_wall_/);
    assert.match(dot, /subgraph cluster_internal \{/);
    const svg = await renderSvg(site, flows);
    assertXmlish(svg);
    assert.ok(svg.includes('>bare-store</text>'));
  });
});
