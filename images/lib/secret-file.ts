// Secrets (bind DN, passwords, shared secrets) come from files mounted from Kubernetes Secrets, so
// they never appear in a ConfigMap, the environment or a process listing.
import { readFileSync } from 'node:fs';
import { MtopoError } from './errors.ts';

/**
 * The file's content without its trailing line break (editors and `kubectl create secret
 * --from-file` often add one). An empty value is refused: an empty LDAP password turns a bind into
 * an anonymous bind, which slapd accepts.
 */
export function readSecretFile(path: string): string {
  let value: string;
  try {
    value = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw new MtopoError('ESECRET', `cannot read secret file ${path}: ${(error as Error).message}`);
  }
  if (value.length === 0) throw new MtopoError('ESECRET', `secret file ${path} is empty`);
  return value;
}
