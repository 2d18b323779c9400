// A small parser for the Dockerfile instructions this repository's Dockerfiles use (FROM, COPY,
// RUN, USER, WORKDIR, ENV, LABEL, EXPOSE, ENTRYPOINT, CMD), enough to compare a Dockerfile with the
// recipe `make images` builds from. Anything else is an error rather than something ignored.
import type { ImageConfig } from './image-metadata.ts';

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

export interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: readonly Instruction[];
}

export interface CopyInstruction {
  readonly from: string | undefined;
  readonly sources: readonly string[];
  readonly destination: string;
}

export class DockerfileError extends Error {
  override name = 'DockerfileError';
}

const KNOWN = new Set([
  'FROM',
  'COPY',
  'RUN',
  'USER',
  'WORKDIR',
  'ENV',
  'LABEL',
  'EXPOSE',
  'ENTRYPOINT',
  'CMD',
]);

/** The instructions, with `\` continuations joined and comments left out. */
export function parseInstructions(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) {
      const next = lines[++i]!.trim();
      if (next.startsWith('#')) continue;
      line = `${line.slice(0, -1).trimEnd()} ${next}`;
    }
    const match = /^(\S+)\s*(.*)$/.exec(line)!;
    const keyword = match[1]!.toUpperCase();
    if (!KNOWN.has(keyword))
      throw new DockerfileError(`line ${start}: ${keyword} is not an instruction this parser knows`);
    instructions.push({ keyword, args: match[2]!, line: start });
  }
  return instructions;
}

export function parseStages(text: string): Stage[] {
  const stages: { from: string; name: string | undefined; instructions: Instruction[] }[] = [];
  for (const instruction of parseInstructions(text)) {
    if (instruction.keyword === 'FROM') {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      if (!match)
        throw new DockerfileError(`line ${instruction.line}: FROM IMAGE [AS NAME], got ${instruction.args}`);
      stages.push({ from: match[1]!, name: match[2], instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage)
        throw new DockerfileError(`line ${instruction.line}: ${instruction.keyword} before any FROM`);
      stage.instructions.push(instruction);
    }
  }
  if (stages.length === 0) throw new DockerfileError('no FROM: not a Dockerfile');
  return stages;
}

/** Shell-like words: whitespace splits, double or single quotes group (and are removed). */
export function words(text: string): string[] {
  const found = text.match(/(?:[^\s"']+|"(?:[^"\\]|\\.)*"|'[^']*')+/g) ?? [];
  return found.map((word) =>
    word.replace(/"((?:[^"\\]|\\.)*)"|'([^']*)'/g, (_, double?: string, single?: string) =>
      double !== undefined ? double.replace(/\\(.)/g, '$1') : (single ?? ''),
    ),
  );
}

function keyValues(instruction: Instruction): Record<string, string> {
  const pairs = words(instruction.args);
  if (pairs.length === 2 && !pairs[0]!.includes('=')) return { [pairs[0]!]: pairs[1]! };
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new DockerfileError(`line ${instruction.line}: expected KEY=VALUE, got ${pair}`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

function execForm(instruction: Instruction): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(instruction.args);
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string'))
    throw new DockerfileError(
      `line ${instruction.line}: ${instruction.keyword} must be in exec form (a JSON array), so the program is PID 1 and gets SIGTERM`,
    );
  return parsed as string[];
}

export function parseCopy(instruction: Instruction): CopyInstruction {
  const parts = words(instruction.args);
  let from: string | undefined;
  while (parts[0]?.startsWith('--')) {
    const flag = parts.shift()!;
    if (flag.startsWith('--from=')) from = flag.slice('--from='.length);
    else throw new DockerfileError(`line ${instruction.line}: COPY ${flag} is not supported here`);
  }
  if (parts.length < 2)
    throw new DockerfileError(`line ${instruction.line}: COPY needs a source and a destination`);
  return { from, sources: parts.slice(0, -1), destination: parts.at(-1)! };
}

/** The runtime config the stage's instructions set, in the writer's terms. */
export function stageConfig(stage: Stage): ImageConfig {
  const env: Record<string, string> = {};
  const labels: Record<string, string> = {};
  const ports: number[] = [];
  const config: { -readonly [K in keyof ImageConfig]: ImageConfig[K] } = {};
  for (const instruction of stage.instructions) {
    switch (instruction.keyword) {
      case 'USER':
        config.user = instruction.args.trim();
        break;
      case 'WORKDIR':
        config.workingDir = instruction.args.trim();
        break;
      case 'ENV':
        Object.assign(env, keyValues(instruction));
        break;
      case 'LABEL':
        Object.assign(labels, keyValues(instruction));
        break;
      case 'EXPOSE':
        for (const word of words(instruction.args)) {
          const match = /^(\d+)(?:\/tcp)?$/.exec(word);
          if (!match)
            throw new DockerfileError(
              `line ${instruction.line}: EXPOSE ${word}: only TCP ports are used here`,
            );
          ports.push(Number(match[1]));
        }
        break;
      case 'ENTRYPOINT':
        config.entrypoint = execForm(instruction);
        break;
      case 'CMD':
        config.cmd = execForm(instruction);
        break;
    }
  }
  if (Object.keys(env).length > 0) config.env = env;
  if (Object.keys(labels).length > 0) config.labels = labels;
  if (ports.length > 0) config.exposedPorts = ports;
  return config;
}
