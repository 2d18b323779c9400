// The entry the CLI calls: one site, its flows, and the format to draw them in.
import type { Flow } from '../render/firewall/flows.ts';
import type { Site } from '../render/site.ts';
import { renderDot, renderSvg } from './graphviz.ts';
import { renderMermaid } from './mermaid.ts';

export type DiagramFormat = 'mermaid' | 'svg' | 'dot';

export const DIAGRAM_FORMATS: readonly DiagramFormat[] = ['mermaid', 'svg', 'dot'];

export async function renderDiagram(
  site: Site,
  flows: readonly Flow[],
  format: DiagramFormat,
): Promise<string> {
  switch (format) {
    case 'mermaid':
      return renderMermaid(site, flows);
    case 'dot':
      return renderDot(site, flows);
    case 'svg':
      return renderSvg(site, flows);
  }
}
