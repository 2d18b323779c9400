// The topology as a Graphviz picture, drawn left to right like the classic planning guides: the
// internet and the client networks outside, the outer firewall, the DMZ and the client access area, the
// inner firewall, the internal network, then the directory and the legacy systems. The firewalls are
// drawn as walls with one opening per allowed flow, labelled with its ports: what passes a wall is
// exactly what the NetworkPolicies let through.
import { instance, type Viz } from '@viz-js/viz';
import type { Flow } from '../render/firewall/flows.ts';
import type { Site } from '../render/site.ts';
import {
  buildModel,
  WALL_TITLES,
  type Band,
  type DiagramEdge,
  type DiagramModel,
  type DiagramNode,
  type ModelOptions,
  type Palette,
  type Wall,
} from './model.ts';

const FONT = 'Helvetica';

interface Colors {
  /** Background of the area. */
  readonly area: string;
  /** Border and title of the area. */
  readonly border: string;
  /** Fill of the nodes in it. */
  readonly node: string;
  /** Border of the nodes. */
  readonly stroke: string;
  readonly text: string;
}

/** One colour family per zone: DMZ amber, internal blue, client access green, everything outside grey. */
export const DOT_COLORS: Record<Palette, Colors> = {
  external: { area: '#f3f4f6', border: '#9ca3af', node: '#e5e7eb', stroke: '#6b7280', text: '#1f2937' },
  dmz: { area: '#fff7e6', border: '#d99a1e', node: '#ffdf99', stroke: '#b7791f', text: '#3d2800' },
  internal: { area: '#edf4ff', border: '#5b8fd6', node: '#c9defc', stroke: '#2f62b0', text: '#0f2a55' },
  access: { area: '#ecf8ef', border: '#4faa6c', node: '#c5ead0', stroke: '#2e8a4f', text: '#0f3d1f' },
};

const WALL = { fill: '#a8432f', border: '#7a2e1f', text: '#ffffff', opening: '#fffaf5' };

/** Edge colours by what the flow carries. */
const FLOW_COLORS = {
  mail: '#374151',
  access: '#2e8a4f',
  directory: '#7c4dbd',
  infrastructure: '#9ca3af',
  balancer: '#6b7280',
};

const BAND_ORDER: Record<Band, number> = { outside: 0, perimeter: 1, inside: 2, behind: 3 };

/** A double-quoted DOT string. */
function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Text inside an HTML-like label. */
function html(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function attrs(list: Record<string, string | number | undefined>): string {
  const parts = Object.entries(list)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? String(v) : v.startsWith('<') ? v : quote(v)}`);
  return `[${parts.join(', ')}]`;
}

function nodeLabel(node: DiagramNode, textColor: string): string {
  const details = node.details
    .map((d) => `<br/><font point-size="9" color="${textColor}">${html(d)}</font>`)
    .join('');
  return `<<b>${html(node.title)}</b>${details}>`;
}

function nodeAttrs(node: DiagramNode, colors: Colors): Record<string, string | number | undefined> {
  const base = {
    label: nodeLabel(node, colors.text),
    fontcolor: colors.text,
    fillcolor: colors.node,
    color: colors.stroke,
    tooltip: [node.title, ...node.details].join(' — '),
  };
  switch (node.shape) {
    case 'store':
    case 'directory':
      return { ...base, shape: 'cylinder', style: 'filled', margin: '0.15,0.06' };
    case 'balancer':
      return {
        ...base,
        shape: 'box',
        style: 'rounded,filled,dashed',
        fillcolor: '#ffffff',
        color: '#4b5563',
        fontcolor: '#111827',
        label: nodeLabel(node, '#374151'),
      };
    case 'internet':
      return { ...base, shape: 'ellipse', style: 'filled', margin: '0.05,0.05' };
    case 'clients':
    case 'legacy':
    case 'peer':
      return { ...base, shape: 'box', style: 'rounded,filled' };
    case 'mta':
    case 'mmp':
      return { ...base, shape: 'box', style: 'rounded,filled', penwidth: 1.4 };
  }
}

function flowColor(edge: DiagramEdge): string {
  if (edge.kind === 'balancer') return FLOW_COLORS.balancer;
  const labels = edge.ports.map((p) => p.label);
  if (labels.some((l) => l.startsWith('ldap'))) return FLOW_COLORS.directory;
  if (labels.some((l) => l.startsWith('imap') || l.startsWith('pop3'))) return FLOW_COLORS.access;
  if (labels.some((l) => l === 'dns' || l === 'http')) return FLOW_COLORS.infrastructure;
  return FLOW_COLORS.mail;
}

/** An HTML label for port lines on an edge or an opening. */
function portLabel(lines: readonly string[], color: string): string {
  return `<<font color="${color}">${lines.map(html).join('<br/>')}</font>>`;
}

export function renderDot(site: Site, flows: readonly Flow[], options: ModelOptions = {}): string {
  const model = buildModel(site, flows, options);
  return dotOf(model);
}

function dotOf(model: DiagramModel): string {
  const out: string[] = [];
  const areaOf = new Map(model.areas.map((a) => [a.id, a]));
  const bandOf = (id: string): number => {
    const node = model.nodes.find((n) => n.id === id);
    const area = node ? areaOf.get(node.area) : undefined;
    return area ? BAND_ORDER[area.band] : 0;
  };

  out.push('digraph mtopo {');
  out.push(
    `  graph ${attrs({
      rankdir: 'LR',
      newrank: 'true',
      compound: 'true',
      splines: 'spline',
      nodesep: 0.3,
      ranksep: 0.55,
      pad: 0.3,
      fontname: FONT,
      fontsize: 16,
      labelloc: 't',
      label: `<<b>${html(model.title)}</b>>`,
      bgcolor: '#ffffff',
    })};`,
  );
  out.push(`  node ${attrs({ fontname: FONT, fontsize: 11, margin: '0.14,0.06' })};`);
  out.push(`  edge ${attrs({ fontname: FONT, fontsize: 9, arrowsize: 0.7, penwidth: 1.3 })};`);

  // Areas and their nodes.
  for (const area of model.areas) {
    const c = DOT_COLORS[area.palette];
    out.push(`  subgraph cluster_${area.id} {`);
    out.push(
      `    graph ${attrs({
        label: `<<b>${html(area.title)}</b>>`,
        style: 'rounded,filled',
        fillcolor: c.area,
        color: c.border,
        fontcolor: c.stroke,
        fontsize: 12,
        penwidth: 1.5,
        margin: 12,
      })};`,
    );
    for (const node of model.nodes.filter((n) => n.area === area.id)) {
      out.push(`    ${node.id} ${attrs(nodeAttrs(node, c))};`);
    }
    out.push('  }');
  }

  // Walls: one opening per edge that passes, labelled with the ports that pass.
  const openings = new Map<Wall, { id: string; edge: DiagramEdge }[]>([
    ['outer', []],
    ['inner', []],
  ]);
  model.edges.forEach((edge, index) => {
    for (const wall of edge.walls) openings.get(wall)!.push({ id: `wall_${wall}_${index}`, edge });
  });
  for (const [wall, holes] of openings) {
    if (holes.length === 0) continue;
    out.push(`  subgraph cluster_wall_${wall} {`);
    out.push(
      `    graph ${attrs({
        label: `<<b>${html(WALL_TITLES[wall])}</b>>`,
        style: 'filled',
        fillcolor: WALL.fill,
        color: WALL.border,
        fontcolor: WALL.text,
        fontsize: 11,
        penwidth: 2,
        margin: 8,
      })};`,
    );
    for (const { id, edge } of holes) {
      out.push(
        `    ${id} ${attrs({
          label: portLabel(edge.label, flowColor(edge)),
          shape: 'box',
          style: 'filled',
          fillcolor: WALL.opening,
          color: WALL.border,
          fontsize: 9,
          margin: '0.06,0.03',
          height: 0.3,
          tooltip: `${WALL_TITLES[wall]}: ${edge.purposes.join('; ')}`,
        })};`,
      );
    }
    out.push(
      `    wall_${wall}_deny ${attrs({
        label: '<<b>all else<br/>denied</b>>',
        shape: 'plaintext',
        fontcolor: WALL.text,
        fontsize: 9,
      })};`,
    );
    out.push(`    { rank=same; ${[...holes.map((h) => h.id), `wall_${wall}_deny`].join('; ')}; }`);
    out.push('  }');
  }

  // Columns: what is outside on the left, the services behind the inside on the right.
  const column = (band: Band) =>
    model.nodes.filter((n) => areaOf.get(n.area)?.band === band).map((n) => n.id);
  const outside = column('outside');
  if (outside.length > 0) out.push(`  { rank=min; ${outside.join('; ')}; }`);
  const behind = column('behind');
  if (behind.length > 0) out.push(`  { rank=same; ${behind.join('; ')}; }`);

  // Edges. An edge drawn right to left is declared left to right with dir=back, so that ranks keep
  // the outside on the left whatever way the mail goes.
  model.edges.forEach((edge, index) => {
    const color = flowColor(edge);
    const path = [edge.from, ...edge.walls.map((w) => `wall_${w}_${index}`), edge.to];
    const backwards = bandOf(edge.from) > bandOf(edge.to);
    const tooltip = `${edge.purposes.join('; ')} (${edge.label.join(', ') || 'balanced'})`;
    const style = edge.kind === 'balancer' ? 'dashed' : 'solid';
    const labelled = edge.walls.length === 0 && edge.label.length > 0;
    for (let i = 0; i < path.length - 1; i++) {
      const last = i === path.length - 2;
      const [a, b] = [path[i]!, path[i + 1]!];
      const head = last ? 'normal' : 'none';
      const common = {
        color,
        style,
        tooltip,
        label: labelled ? portLabel(edge.label, color) : undefined,
      };
      if (backwards) {
        // Declared b -> a with dir=back: the arrow is drawn at b, which is edge.to on the last segment.
        out.push(`  ${b} -> ${a} ${attrs({ ...common, dir: last ? 'back' : 'none', arrowtail: head })};`);
      } else {
        out.push(`  ${a} -> ${b} ${attrs({ ...common, dir: last ? 'forward' : 'none', arrowhead: head })};`);
      }
    }
  });

  // Legend.
  const legend = [
    ...model.legend,
    'Walls: each opening is one allowed flow and its ports. Dashed: a load balancer spreading over its pods.',
  ];
  out.push(
    `  legend ${attrs({
      shape: 'note',
      style: 'filled',
      fillcolor: '#fffbea',
      color: '#a3a3a3',
      fontsize: 9,
      fontcolor: '#374151',
      label: `<${legend.map(html).join('<br align="left"/>')}<br align="left"/>>`,
    })};`,
  );
  if (behind.length > 0) out.push(`  { rank=same; legend; ${behind[0]}; }`);
  out.push('}');
  return `${out.join('\n')}\n`;
}

let vizInstance: Promise<Viz> | undefined;

/** The Graphviz picture as SVG, laid out by Graphviz compiled to WebAssembly (no binary needed). */
export async function renderSvg(
  site: Site,
  flows: readonly Flow[],
  options: ModelOptions = {},
): Promise<string> {
  vizInstance ??= instance();
  const viz = await vizInstance;
  const svg = viz.renderString(renderDot(site, flows, options), { format: 'svg', engine: 'dot' });
  return tidySvg(svg);
}

/**
 * Two touches on Graphviz's SVG. It names the fallback font "sans-Serif", which some renderers
 * (librsvg) do not match: they pick a wider face than the layout measured, and text spills out of its
 * boxes. And it writes every hyphen as "&#45;", so "edge-mta" could not be found in the file; outside
 * comments (where "--" is not allowed) a plain hyphen is just as valid.
 */
export function tidySvg(svg: string): string {
  return svg
    .split(/(<!--[\s\S]*?-->)/)
    .map((part) =>
      part.startsWith('<!--')
        ? part
        : part
            .replaceAll('font-family="Helvetica,sans-Serif"', 'font-family="Helvetica,Arial,sans-serif"')
            .replaceAll('&#45;', '-'),
    )
    .join('');
}
