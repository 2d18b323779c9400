// Where the pinned control-plane binaries are: built (or found in the cache) by testing/go-tools.
import { fileURLToPath } from 'node:url';
import { buildGoTool } from '../go-tools/build.ts';

/**
 * The bin directory holding etcd, kube-apiserver, kube-controller-manager and kubectl.
 * MTOPO_CLUSTER_BIN overrides the lookup (binaries built elsewhere).
 */
export function ensureClusterBinaries(): Promise<string> {
  const override = process.env.MTOPO_CLUSTER_BIN;
  if (override !== undefined && override !== '') return Promise.resolve(override);
  return buildGoTool(fileURLToPath(new URL('.', import.meta.url)));
}
