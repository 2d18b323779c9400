// Loads a program's config file: the JSON the operator renders into a ConfigMap, validated with the
// same zod schema the operator rendered it from (images/lib/config). A config the program cannot use
// is refused at start with every offending field named, never half-applied.
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
