// The kstatus checker (cmd/kstatus, built from sigs.k8s.io/cli-utils): what Flux, kpt and other
// kstatus users conclude from an object.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubernetesObject } from '@kubernetes/client-node';

export interface KstatusResult {
  readonly status: 'InProgress' | 'Failed' | 'Current' | 'Terminating' | 'NotFound' | 'Unknown' | '';
  readonly message: string;
  readonly error?: string;
}

const toolDir = path.dirname(fileURLToPath(import.meta.url));
const buildScript = path.join(toolDir, '..', 'go-tools', 'build.sh');

function exec(command: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${path.basename(command)}: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
    child.stdin?.end(input ?? '');
  });
}

let binary: Promise<string> | undefined;

/** Builds the checker on first use (about 2 minutes, then cached under ~/.cache/mtopo). */
export function kstatusBinary(): Promise<string> {
  binary ??= exec('bash', [buildScript, toolDir]).then((bin) => path.join(bin.trim(), 'kstatus'));
  return binary;
}

/** kstatus's verdict on each object, in order. */
export async function kstatus(objects: readonly KubernetesObject[]): Promise<KstatusResult[]> {
  const out = await exec(await kstatusBinary(), [], objects.map((o) => JSON.stringify(o)).join('\n') + '\n');
  return out
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as KstatusResult);
}
