// Loads a program's config file: the JSON the operator renders into a ConfigMap, validated with the
// same zod schema the operator rendered it from (images/lib/contract). A config the program cannot
// use is refused at start with every offending field named, never half-applied. zod is imported for
// its types only: a program that checks its config in a child (loadConfigInChild) never loads it.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { MtopoError } from './errors.ts';

export function loadConfigFile<Schema extends z.ZodType>(path: string, schema: Schema): z.output<Schema> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new MtopoError('ECONFIG', `cannot read config file ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new MtopoError('ECONFIG', `config file ${path} is not JSON: ${(error as Error).message}`);
  }
  return parseConfig(json, schema, path);
}

export function parseConfig<Schema extends z.ZodType>(
  json: unknown,
  schema: Schema,
  source = 'config',
): z.output<Schema> {
  const result = schema.safeParse(json);
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (issue) => `${issue.path.length ? issue.path.join('.') : '(top level)'}: ${issue.message}`,
  );
  throw new MtopoError('ECONFIG', `${source} is invalid:\n  ${problems.join('\n  ')}`);
}

/**
 * The flag a program takes to check a config file and stop: it prints the config as the program
 * will use it (defaults filled in) as JSON on stdout and exits 0, or names every offending field on
 * stderr and exits 1. Users run it as they run `nginx -t` (`node main.js --check-config --config
 * FILE`); the program runs it itself at start (loadConfigInChild).
 */
export const CHECK_CONFIG_FLAG = 'check-config';

/** The --check-config run, in the child: the exit code. */
export function printCheckedConfig<Schema extends z.ZodType>(
  path: string,
  schema: Schema,
  out: Pick<NodeJS.WriteStream, 'write'> = process.stdout,
  err: Pick<NodeJS.WriteStream, 'write'> = process.stderr,
): number {
  try {
    out.write(`${JSON.stringify(loadConfigFile(path, schema))}\n`);
    return 0;
  } catch (error) {
    err.write(`${error instanceof MtopoError ? error.message : String(error)}\n`);
    return 1;
  }
}

/**
 * The config, checked by the program itself run with --check-config in a short-lived child: zod
 * and the schemas (4 MiB of the MMP's resident memory with 9,900 idle sessions, 6 at start;
 * docs/performance.md, MMP, tenth round) then never load in the long-running process. The schemas
 * turn JSON into JSON (no transforms), so what the child printed is what it parsed. `entry` is the
 * program's main file, the one running.
 */
export function loadConfigInChild<Config>(path: string, entry = process.argv[1]!): Config {
  const child = spawnSync(process.execPath, [entry, `--${CHECK_CONFIG_FLAG}`, '--config', path], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: CHECK_TIMEOUT_MS,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.error)
    throw new MtopoError('ECONFIG', `cannot check config file ${path}: ${child.error.message}`);
  if (child.status !== 0)
    throw new MtopoError(
      'ECONFIG',
      child.stderr.trim() ||
        `checking config file ${path} failed (${child.signal ?? `exit ${child.status}`})`,
    );
  return JSON.parse(child.stdout) as Config;
}

/** Room for a cold start on a loaded node: Node's own start and the schemas' load take 0.1-0.3 s. */
const CHECK_TIMEOUT_MS = 60_000;
