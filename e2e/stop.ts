// Stops the end-to-end node started by e2e/start.ts (or left behind by a killed run): asks the
// process that started it to stop, and if that process is gone, tears the node down itself from
// the state file. Exits 0 when the machine is back as it was, also when no node was running.
import { setTimeout as sleep } from 'node:timers/promises';
import { isRunning, readNodeState } from './cluster/node-state.ts';
import { tearDownNode } from './cluster/teardown.ts';

const log = (line: string): void => void process.stderr.write(`e2e: ${line}\n`);
const state = readNodeState();
if (state === undefined) {
  log('no node is running');
} else if (isRunning(state.owner)) {
  log(`asking PID ${state.owner.pid} to stop the node`);
  process.kill(state.owner.pid, 'SIGTERM');
  const deadline = Date.now() + 300_000;
  while (isRunning(state.owner) && Date.now() < deadline) await sleep(200);
  if (isRunning(state.owner)) {
    log(`PID ${state.owner.pid} did not stop within 5 minutes`);
    process.exitCode = 1;
  } else if (readNodeState() !== undefined) {
    log('its starter ended but left the node behind; tearing it down');
    await finish();
  }
} else {
  log(`its starter (PID ${state.owner.pid}) is gone; tearing the node down`);
  await finish();
}

async function finish(): Promise<void> {
  const current = readNodeState();
  if (current === undefined) return;
  const report = await tearDownNode(current, log);
  log(`stopped in ${report.seconds.toFixed(1)}s`);
  if (report.problems.length > 0) {
    log(`could not undo:\n${report.problems.join('\n')}`);
    process.exitCode = 1;
  }
}
