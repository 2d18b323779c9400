#!/usr/bin/env node
// mtopo: render, validate and draw a messaging topology offline, from the same core the operator
// runs, so a GitOps pipeline can review exactly what will be created.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { renderDiagram, type DiagramFormat } from '../diagram/render-diagram.ts';
import { siteFlows } from '../render/firewall/flows.ts';
import { renderSite } from '../render/render.ts';
import { formatProblem, loadFiles, type LoadedSites } from './manifests.ts';
import { toJsonList, toYaml } from './output.ts';
import { renderPlan } from './plan.ts';

const USAGE = `mtopo: the messaging topology operator's offline tools

Usage:
  mtopo render   -f FILE... [-o yaml|json]     the Kubernetes objects a topology creates
  mtopo validate -f FILE...                    check resources; exit 1 with field paths if invalid
  mtopo plan     -f FILE...                    what will be created: tiers, firewall flows, DNS records
  mtopo diagram  -f FILE... [--format mermaid|svg|dot] [--out FILE]
                                               the topology as a picture: tiers, flows, firewall zones

FILE may be "-" for standard input and may hold several YAML documents.
`;

interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => string;
  writeFile: (path: string, text: string) => void;
}

function load(files: string[], io: Io): LoadedSites | undefined {
  if (files.length === 0) {
    io.stderr('mtopo: no input: give one or more files with -f FILE (or -f - for standard input)\n');
    return undefined;
  }
  const loaded = loadFiles(files, io.readStdin);
  if (loaded.problems.length > 0) {
    for (const p of loaded.problems) io.stderr(`${formatProblem(p)}\n`);
    io.stderr(`mtopo: ${loaded.problems.length} problem${loaded.problems.length > 1 ? 's' : ''} found\n`);
    return undefined;
  }
  if (loaded.inputs.length === 0) {
    io.stderr('mtopo: the input holds no MessagingTopology; relays and pools need one to attach to\n');
    return undefined;
  }
  return loaded;
}

export async function run(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    io.stdout(USAGE);
    return command ? 0 : 2;
  }
  let values: { file?: string[]; output?: string; format?: string; out?: string };
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        file: { type: 'string', short: 'f', multiple: true },
        output: { type: 'string', short: 'o' },
        format: { type: 'string' },
        out: { type: 'string' },
      },
      allowPositionals: false,
    }));
  } catch (error) {
    io.stderr(`mtopo ${command}: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const files = values.file ?? [];

  switch (command) {
    case 'validate': {
      const loaded = load(files, io);
      if (!loaded) return 1;
      let warnings = 0;
      for (const input of loaded.inputs) {
        const { warnings: found } = renderSite(input);
        for (const w of found) io.stderr(`warning: ${w.message}\n`);
        warnings += found.length;
      }
      const count = loaded.inputs.length;
      io.stdout(
        `${count} topolog${count > 1 ? 'ies' : 'y'} valid${warnings ? `, ${warnings} warning(s)` : ''}\n`,
      );
      return 0;
    }
    case 'plan': {
      const loaded = load(files, io);
      if (!loaded) return 1;
      for (const input of loaded.inputs) {
        const { site, objects, warnings } = renderSite(input);
        io.stdout(renderPlan(site, objects, siteFlows(site), warnings));
      }
      return 0;
    }
    case 'render': {
      const output = values.output ?? 'yaml';
      if (output !== 'yaml' && output !== 'json') {
        io.stderr(`mtopo render: -o must be yaml or json, not ${JSON.stringify(output)}\n`);
        return 2;
      }
      const loaded = load(files, io);
      if (!loaded) return 1;
      const objects = loaded.inputs.flatMap((input) => {
        const { objects: rendered, warnings } = renderSite(input);
        for (const w of warnings) io.stderr(`warning: ${w.message}\n`);
        return rendered;
      });
      io.stdout(output === 'json' ? toJsonList(objects) : toYaml(objects));
      return 0;
    }
    case 'diagram': {
      const format = (values.format ?? 'mermaid') as DiagramFormat;
      if (!['mermaid', 'svg', 'dot'].includes(format)) {
        io.stderr(`mtopo diagram: --format must be mermaid, svg or dot, not ${JSON.stringify(format)}\n`);
        return 2;
      }
      const loaded = load(files, io);
      if (!loaded) return 1;
      const pictures: string[] = [];
      for (const input of loaded.inputs) {
        const { site } = renderSite(input);
        pictures.push(await renderDiagram(site, siteFlows(site), format));
      }
      const text = pictures.join('\n');
      if (values.out) io.writeFile(values.out, text);
      else io.stdout(text);
      return 0;
    }
    default:
      io.stderr(`mtopo: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
      return 2;
  }
}

if (import.meta.main) {
  const code = await run(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    readStdin: () => readFileSync(0, 'utf8'),
    writeFile: (path, text) => writeFileSync(path, text),
  });
  process.exitCode = code;
}
