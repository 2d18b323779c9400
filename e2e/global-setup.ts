// `node --test --test-global-setup=e2e/global-setup.ts`: one node for the whole end-to-end run,
// started before the first test file and stopped after the last (or the one of
// MTOPO_E2E_KUBECONFIG, started with e2e/start.ts, reused). The test files find it through the
// control-plane harness's variables (testing/control-plane/test-env.ts), so its kubectl and
// namespace helpers work here too.
import path from 'node:path';
import { BIN_DIR_ENV, KUBECONFIG_ENV } from '../testing/control-plane/test-env.ts';
import { ensureNodeBinaries, startNode, type RunningNode } from './cluster/node.ts';
import { footprintDifferences, takeFootprint, type Footprint } from './cluster/footprint.ts';
import { readNodeState } from './cluster/node-state.ts';
import { importTestImage } from './test-image.ts';

export const E2E_KUBECONFIG_ENV = 'MTOPO_E2E_KUBECONFIG';

let node: RunningNode | undefined;
let footprintBefore: Footprint | undefined;
const log = (line: string): void => void process.stderr.write(`e2e: ${line}\n`);

export async function globalSetup(): Promise<void> {
  const existing = process.env[E2E_KUBECONFIG_ENV];
  const binaries = await ensureNodeBinaries();
  if (existing !== undefined && existing !== '') {
    const state = readNodeState();
    if (state?.kubeconfigPath !== existing)
      throw new Error(`${E2E_KUBECONFIG_ENV}=${existing} is not the running node's (node e2e/start.ts)`);
    log(`using the running node of ${existing}`);
    await importTestImage(
      { address: state.containerdSocket, ctr: path.join(binaries.containerd, 'ctr') },
      state.dir,
    );
    process.env[KUBECONFIG_ENV] = existing;
  } else {
    footprintBefore = takeFootprint();
    node = await startNode({ log });
    log(`node Ready in ${node.timings.nodeReady}s, CoreDNS in ${node.timings.dnsReady}s (${node.dir})`);
    await importTestImage(node.containerd, node.dir);
    process.env[KUBECONFIG_ENV] = node.kubeconfigPath;
  }
  process.env[BIN_DIR_ENV] = binaries.cluster;
}

export async function globalTeardown(): Promise<void> {
  if (node === undefined) return;
  const report = await node.stop();
  node = undefined;
  log(`node stopped in ${report.seconds.toFixed(1)}s`);
  if (report.problems.length > 0) throw new Error(`the node's teardown left:\n${report.problems.join('\n')}`);
  // The machine as it was: a leftover of the node fails the run.
  const differences =
    footprintBefore === undefined ? [] : footprintDifferences(footprintBefore, takeFootprint());
  for (const difference of differences) log(`left on the machine: ${difference}`);
  if (differences.length > 0)
    throw new Error(`the node's teardown changed the machine:\n${differences.join('\n')}`);
}
