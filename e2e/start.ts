// Starts the end-to-end node (e2e/cluster/node.ts) by hand, for poking at it or for running the
// suite against it repeatedly without paying for a start each time:
//
//   node e2e/start.ts                       # prints the exports, runs until Ctrl-C or e2e/stop.ts
//   node e2e/start.ts -- kubectl get pods -A   # runs one command with KUBECONFIG set, then stops
//
// While it runs, `MTOPO_E2E_KUBECONFIG=<that kubeconfig> make e2e` reuses it.
import { runInForeground, untilInterrupted } from '../testing/support/processes.ts';
import { startNode } from './cluster/node.ts';
import { readNodeState } from './cluster/node-state.ts';
import { nodeResidentMemory } from './cluster/resident-memory.ts';

const separator = process.argv.indexOf('--');
const command = separator === -1 ? [] : process.argv.slice(separator + 1);
const log = (line: string): void => void process.stderr.write(`e2e: ${line}\n`);

const node = await startNode({ log });
const state = readNodeState();
if (state !== undefined) {
  const { bytes, processes } = nodeResidentMemory(state);
  log(`resident memory: ${(bytes / 2 ** 20).toFixed(0)} MiB in ${processes} processes`);
}
const path = `${node.binaries.cluster}:${node.binaries.crictl}:${node.binaries.containerd}`;
const env = {
  ...process.env,
  KUBECONFIG: node.kubeconfigPath,
  MTOPO_E2E_KUBECONFIG: node.kubeconfigPath,
  CONTAINER_RUNTIME_ENDPOINT: node.crictlArgs[1],
  IMAGE_SERVICE_ENDPOINT: node.crictlArgs[3],
  CONTAINERD_ADDRESS: node.containerd.address,
  CONTAINERD_NAMESPACE: 'k8s.io',
  PATH: `${path}:${process.env.PATH ?? ''}`,
};

let exitCode = 0;
const [program, ...args] = command;
if (program === undefined) {
  console.log(`export KUBECONFIG=${env.KUBECONFIG} MTOPO_E2E_KUBECONFIG=${env.MTOPO_E2E_KUBECONFIG}`);
  console.log(
    `export CONTAINER_RUNTIME_ENDPOINT=${env.CONTAINER_RUNTIME_ENDPOINT} IMAGE_SERVICE_ENDPOINT=${env.IMAGE_SERVICE_ENDPOINT}`,
  );
  console.log(`export CONTAINERD_ADDRESS=${env.CONTAINERD_ADDRESS} CONTAINERD_NAMESPACE=k8s.io`);
  console.log(`export PATH=${path}:$PATH`);
  log(`logs in ${node.dir}; Ctrl-C or node e2e/stop.ts stops it`);
  await untilInterrupted();
} else {
  exitCode = await runInForeground(program, args, env);
}
log('stopping');
const report = await node.stop();
log(
  `stopped in ${report.seconds.toFixed(1)}s${report.restoredSysctls.length > 0 ? `; restored ${report.restoredSysctls.join(', ')}` : ''}`,
);
if (report.problems.length > 0) {
  log(`could not undo:\n${report.problems.join('\n')}`);
  exitCode ||= 1;
}
process.exitCode = exitCode;
