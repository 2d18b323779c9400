// Runs the Argo CD health check (docs/gitops/argocd-health.lua) in Debian's Lua 5.1, the dialect of
// the gopher-lua Argo CD embeds, with `obj` set as Argo CD sets it: the live object as a Lua table.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { KubernetesObject } from '@kubernetes/client-node';

export const HEALTH_SCRIPT = fileURLToPath(new URL('../../docs/gitops/argocd-health.lua', import.meta.url));

export interface ArgoHealth {
  readonly status: 'Healthy' | 'Progressing' | 'Degraded' | 'Suspended' | 'Missing' | 'Unknown';
  readonly message: string;
}

/** A JSON value as a Lua expression (bytes outside printable ASCII as three-digit decimal escapes). */
export function luaLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  if (typeof value === 'string') {
    const escaped = [...Buffer.from(value, 'utf8')]
      .map((b) =>
        b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c
          ? String.fromCharCode(b)
          : `\\${String(b).padStart(3, '0')}`,
      )
      .join('');
    return `"${escaped}"`;
  }
  if (Array.isArray(value)) return `{${value.map(luaLiteral).join(', ')}}`;
  const entries = Object.entries(value as Record<string, unknown>).map(
    ([k, v]) => `[${luaLiteral(k)}] = ${luaLiteral(v)}`,
  );
  return `{${entries.join(', ')}}`;
}

const runner = `
local script = assert(loadfile(${luaLiteral(HEALTH_SCRIPT)}))
local hs = script()
io.write(hs.status, "\\n", hs.message or "")
`;

export function argoHealth(object: KubernetesObject): Promise<ArgoHealth> {
  return new Promise((resolve, reject) => {
    execFile(
      'lua5.1',
      ['-e', `obj = ${luaLiteral(object)}`, '-e', runner],
      { timeout: 10_000 },
      (error, stdout, stderr) => {
        if (error) {
          reject(
            new Error(
              `lua5.1: ${stderr.trim() || error.message} (install it: testing/peers/install-peers.sh)`,
            ),
          );
          return;
        }
        const [status, ...message] = stdout.split('\n');
        resolve({ status: status as ArgoHealth['status'], message: message.join('\n') });
      },
    );
  });
}
