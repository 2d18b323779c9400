// The topology as a Mermaid flowchart, for READMEs, pull requests and anything else that renders
// Mermaid: internet on the left, the DMZ and the client access area between the outer and inner
// firewall, the internal network, then the directory and the legacy systems behind it. Arrows are the
// allowed flows; thick arrows pass a firewall wall, dotted ones run from a load balancer to its tier.
import type { Flow } from '../render/firewall/flows.ts';
import type { Site } from '../render/site.ts';
import {
  buildModel,
  type AreaId,
  type DiagramEdge,
  type DiagramNode,
  type ModelOptions,
  type Palette,
} from './model.ts';

export interface MermaidOptions extends ModelOptions {
  /** Draw the legend node (default true). */
  readonly legend?: boolean;
}

/** Fill and stroke of each colour family: nodes a little stronger than the areas holding them. */
export const MERMAID_COLORS: Record<Palette, { area: string; node: string; stroke: string; text: string }> = {
  external: { area: '#f4f5f7', node: '#e1e4e8', stroke: '#6b7280', text: '#1f2937' },
  dmz: { area: '#fff6e0', node: '#ffe3a3', stroke: '#c27c00', text: '#3d2800' },
  internal: { area: '#eaf2ff', node: '#cfe0fc', stroke: '#2f62b0', text: '#0f2a55' },
  access: { area: '#e8f6ec', node: '#c7ebd1', stroke: '#2e8a4f', text: '#0f3d1f' },
};

const WALL_COLOR = '#b23a26';

const AREA_TITLES: Partial<Record<AreaId, string>> = {
  dmz: 'DMZ · between the outer and inner firewall',
  access: 'Client access · between the outer and inner firewall',
};

/** Text inside a quoted Mermaid label: no raw quotes or angle brackets, lines joined by <br/>. */
function text(lines: readonly string[]): string {
  return lines
    .map((l) => l.replace(/#/g, '#35;').replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;'))
    .join('<br/>');
}

function nodeLine(node: DiagramNode): string {
  const label = `"${text([node.title, ...node.details])}"`;
  switch (node.shape) {
    case 'store':
    case 'directory':
      return `${node.id}[(${label})]`;
    case 'balancer':
      return `${node.id}[/${label}\\]`;
    case 'internet':
      return `${node.id}((${label}))`;
    case 'clients':
    case 'legacy':
    case 'peer':
      return `${node.id}([${label}])`;
    case 'mta':
    case 'mmp':
      return `${node.id}(${label})`;
  }
}

function arrow(edge: DiagramEdge): string {
  if (edge.kind === 'balancer') return '-.->';
  return edge.walls.length > 0 ? '==>' : '-->';
}

function edgeLine(edge: DiagramEdge): string {
  const label = edge.label.length > 0 ? `|"${text(edge.label)}"|` : '';
  return `${edge.from} ${arrow(edge)}${label} ${edge.to}`;
}

export function renderMermaid(site: Site, flows: readonly Flow[], options: MermaidOptions = {}): string {
  const model = buildModel(site, flows, options);
  const out: string[] = [];
  out.push('---', `title: ${JSON.stringify(model.title)}`, '---', 'flowchart LR');
  out.push('  %% Drawn by mtopo from the firewall model: every arrow is an allowed flow, nothing else is.');

  for (const area of model.areas) {
    const members = model.nodes.filter((n) => n.area === area.id);
    out.push(`  subgraph area_${area.id}["${text([AREA_TITLES[area.id] ?? area.title])}"]`);
    for (const node of members) out.push(`    ${nodeLine(node)}`);
    out.push('  end');
  }

  out.push('');
  for (const edge of model.edges) out.push(`  ${edgeLine(edge)}`);
  // Mail leaving for the internet would pull the internet to the right of the outbound MTA, and Mermaid
  // has no arrow drawn backwards. An invisible link the other way makes a cycle that the layout breaks
  // by turning the egress around, so the internet stays on the left. After the real edges, so that
  // linkStyle indices below still count only those.
  const band = new Map(model.areas.map((a) => [a.id, a.band]));
  const nodeBand = new Map(model.nodes.map((n) => [n.id, band.get(n.area)]));
  const backwards = model.edges.filter(
    (e) => nodeBand.get(e.to) === 'outside' && nodeBand.get(e.from) !== 'outside',
  );
  for (const edge of backwards) out.push(`  ${edge.to} ~~~ ${edge.from}`);

  const legend = options.legend ?? true;
  if (legend) {
    out.push('');
    out.push(
      `  legend["${text(['Legend', ...model.legend, 'Thick arrows pass a firewall wall; dotted: load balancer to its pods.'])}"]`,
    );
  }

  out.push('');
  for (const [palette, c] of Object.entries(MERMAID_COLORS)) {
    out.push(`  classDef ${palette} fill:${c.node},stroke:${c.stroke},color:${c.text},stroke-width:1.5px`);
  }
  out.push(`  classDef balancer fill:#ffffff,stroke:#4b5563,color:#111827,stroke-dasharray:4 2`);
  out.push('  classDef note fill:#fffbea,stroke:#a3a3a3,color:#374151,font-size:12px');
  for (const area of model.areas) {
    const ids = model.nodes.filter((n) => n.area === area.id && n.kind !== 'balancer').map((n) => n.id);
    if (ids.length > 0) out.push(`  class ${ids.join(',')} ${area.palette}`);
  }
  const balancers = model.nodes.filter((n) => n.kind === 'balancer').map((n) => n.id);
  if (balancers.length > 0) out.push(`  class ${balancers.join(',')} balancer`);
  if (legend) out.push('  class legend note');
  for (const area of model.areas) {
    const c = MERMAID_COLORS[area.palette];
    const wall = area.band === 'perimeter' ? `,stroke:${WALL_COLOR},stroke-width:3px` : `,stroke:${c.stroke}`;
    out.push(`  style area_${area.id} fill:${c.area}${wall},color:${c.text}`);
  }
  const walled = model.edges.flatMap((e, i) => (e.kind === 'flow' && e.walls.length > 0 ? [i] : []));
  if (walled.length > 0) out.push(`  linkStyle ${walled.join(',')} stroke:${WALL_COLOR},stroke-width:2.5px`);
  return `${out.join('\n')}\n`;
}
