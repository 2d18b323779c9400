#!/usr/bin/env node
// mtopo: render, validate and draw a messaging topology offline, from the same core the operator
// runs, so a GitOps pipeline can review exactly what will be created; and, as the kubectl plugin
// `kubectl mtopo`, show a running site (status, its live diagram).
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { renderDiagram, type DiagramFormat } from '../diagram/render-diagram.ts';
import { siteFlows } from '../render/firewall/flows.ts';
import { DEFAULT_IMAGE_OPTIONS, defaultImagesFrom, type DefaultImages } from '../render/images.ts';
import { renderSite } from '../render/render.ts';
import { allTiers } from '../render/site.ts';
import { selectorLabels } from '../render/labels.ts';
import { defaultNamespace, liveManifest, onlyTopology, podsWithLabels, readLiveSite } from './live-site.ts';
import { formatProblem, groupBySite, loadFiles, parseDocuments, type LoadedSites } from './manifests.ts';
import { toJsonList, toYaml } from './output.ts';
import { renderPlan } from './plan.ts';
import { readyPod, routeExecArgs, routeTier } from './route.ts';
import { statusReport } from './status-report.ts';

const USAGE = `mtopo: the messaging topology operator's offline tools

Usage:
  mtopo render   -f FILE... [-o yaml|json]     the Kubernetes objects a topology creates
  mtopo validate -f FILE...                    check resources; exit 1 with field paths if invalid
  mtopo plan     -f FILE...                    what will be created: tiers, firewall flows, DNS records
  mtopo diagram  -f FILE... [--format mermaid|svg|dot] [--out FILE]
                                               the topology as a picture: tiers, flows, firewall zones

Of a running site (the current kubeconfig, as kubectl; also as \`kubectl mtopo\`):
  mtopo status  NAME [-n NAMESPACE]            Ready or why not, tiers, endpoints, DNS records to publish
  mtopo diagram NAME [-n NAMESPACE] [--format mermaid|svg|dot] [--out FILE]
                                               the live site's picture, from its objects in the cluster
  mtopo route ADDRESS [NAME] [-n NAMESPACE] [--tier RELAY] [-o text|json]
                                               ask a running MTA tier (default: inbound) what it
                                               answers at RCPT TO for ADDRESS and where it would go

FILE may be "-" for standard input and may hold several YAML documents. The offline commands
render the release's images where spec.images names none; --default-image-mta|store|mmp IMAGE
render another, as an operator started with that flag (the chart's images.* values) does.
`;

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => string;
  writeFile: (path: string, text: string) => void;
  /** kubectl with these arguments (exec: a kubectl plugin can count on kubectl being there). */
  kubectl?: (args: string[]) => Promise<KubectlResult>;
}

function runKubectl(args: string[]): Promise<KubectlResult> {
  return new Promise((resolve) => {
    execFile('kubectl', args, { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 127;
      resolve({ code, stdout, stderr: stderr || (error && code === 127 ? `${error.message}\n` : '') });
    });
  });
}

function load(files: string[], io: Io, defaultImages: DefaultImages = {}): LoadedSites | undefined {
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
  if (Object.keys(defaultImages).length === 0) return loaded;
  return { ...loaded, inputs: loaded.inputs.map((input) => ({ ...input, defaultImages })) };
}

/** A running site's objects, read from the cluster and loaded as a file of them would be. */
async function loadLive(
  command: string,
  positionals: string[],
  namespace: string | undefined,
  io: Io,
): Promise<LoadedSites | undefined> {
  if (positionals.length > 1) {
    io.stderr(`mtopo ${command}: give one topology name, or -f FILE for files\n`);
    return undefined;
  }
  try {
    const live = await readLiveSite(namespace ?? defaultNamespace(), positionals[0]!);
    const parsed = parseDocuments(
      liveManifest(live),
      `${live.topology.metadata.namespace}/${live.topology.metadata.name}`,
    );
    const grouped = groupBySite(parsed.resources, 'the cluster');
    const problems = [...parsed.problems, ...grouped.problems];
    for (const p of problems) io.stderr(`${formatProblem(p)}\n`);
    return problems.length > 0 ? undefined : grouped;
  } catch (error) {
    io.stderr(`mtopo ${command}: ${(error as Error).message}\n`);
    return undefined;
  }
}

export async function run(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    io.stdout(USAGE);
    return command ? 0 : 2;
  }
  let values: {
    file?: string[];
    output?: string;
    format?: string;
    out?: string;
    namespace?: string;
    tier?: string;
  } & Partial<Record<keyof typeof DEFAULT_IMAGE_OPTIONS, string>>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: rest,
      options: {
        file: { type: 'string', short: 'f', multiple: true },
        output: { type: 'string', short: 'o' },
        format: { type: 'string' },
        out: { type: 'string' },
        namespace: { type: 'string', short: 'n' },
        tier: { type: 'string' },
        ...DEFAULT_IMAGE_OPTIONS,
      },
      allowPositionals: command === 'status' || command === 'diagram' || command === 'route',
    }));
  } catch (error) {
    io.stderr(`mtopo ${command}: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const files = values.file ?? [];
  const defaultImages = defaultImagesFrom(values);
  if (defaultImages.problems.length > 0) {
    for (const problem of defaultImages.problems) io.stderr(`mtopo ${command}: ${problem}\n`);
    return 2;
  }

  switch (command) {
    case 'validate': {
      const loaded = load(files, io, defaultImages.images);
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
      const loaded = load(files, io, defaultImages.images);
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
      const loaded = load(files, io, defaultImages.images);
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
      const loaded =
        positionals.length > 0
          ? await loadLive(command, positionals, values.namespace, io)
          : load(files, io, defaultImages.images);
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
    case 'status': {
      const [name, ...extra] = positionals;
      if (name === undefined || extra.length > 0) {
        io.stderr(`mtopo status: give one topology name (kubectl get mtopo lists them)\n\n${USAGE}`);
        return 2;
      }
      try {
        const live = await readLiveSite(values.namespace ?? defaultNamespace(), name);
        const [input] = groupBySite(parseDocuments(liveManifest(live), 'the cluster').resources).inputs;
        const tiers = input === undefined ? [] : allTiers(renderSite(input).site);
        io.stdout(statusReport(live, new Map(tiers.map((t) => [t.name, t.owner]))));
      } catch (error) {
        io.stderr(`mtopo status: ${(error as Error).message}\n`);
        return 1;
      }
      return 0;
    }
    case 'route': {
      const [address, name, ...extra] = positionals;
      const output = values.output ?? 'text';
      if (address === undefined || extra.length > 0 || (output !== 'text' && output !== 'json')) {
        io.stderr(
          `mtopo route: give one address, optionally the topology's name, and -o text or json\n\n${USAGE}`,
        );
        return 2;
      }
      try {
        const namespace = values.namespace ?? defaultNamespace();
        const live = await readLiveSite(namespace, name ?? (await onlyTopology(namespace)));
        const [input] = groupBySite(parseDocuments(liveManifest(live), 'the cluster').resources).inputs;
        if (input === undefined) throw new Error('the site in the cluster could not be read as a topology');
        const site = renderSite(input).site;
        const tier = routeTier(site, values.tier);
        if (!tier.ok) throw new Error(tier.error);
        const selector = selectorLabels(site, tier.value);
        const pod = readyPod(await podsWithLabels(namespace, selector));
        if (pod === undefined) {
          const labels = Object.entries(selector)
            .map(([k, v]) => `${k}=${v}`)
            .join(',');
          throw new Error(
            `no Ready pod of MTARelay ${tier.value.owner.name} to ask (kubectl -n ${namespace} get pods -l ${labels})`,
          );
        }
        const asked = await (io.kubectl ?? runKubectl)(
          routeExecArgs(tier.value, namespace, pod, address, output === 'json'),
        );
        if (asked.code !== 0)
          throw new Error(`asking pod ${pod} failed: ${asked.stderr.trim() || `exit ${asked.code}`}`);
        if (output === 'text')
          io.stdout(`Asked ${pod} (MTARelay ${tier.value.owner.name}, ${tier.value.role}):\n`);
        io.stdout(asked.stdout);
      } catch (error) {
        io.stderr(`mtopo route: ${(error as Error).message}\n`);
        return 1;
      }
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
