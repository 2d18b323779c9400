// Takes the node down if the process that started it dies without doing so (SIGKILL, a crash, a
// killed CI step), so no kubelet, container, mount, namespace or changed kernel setting outlives a
// test run. Runs detached: `node reaper.ts`, see startNodeReaper(). It acts on the state file alone
// (teardown.ts), and only once the owner recorded there is gone (same PID and start time).
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { isRunning, readNodeState } from './node-state.ts';
import { tearDownNode } from './teardown.ts';

export const REAPER_LOG = path.join(tmpdir(), 'mtopo-e2e-reaper.log');

/** Starts the reaper for the node in the state file; returns its PID. */
export function startNodeReaper(): number {
  const reaper = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
    detached: true,
    stdio: 'ignore',
  });
  reaper.unref();
  if (reaper.pid === undefined) throw new Error('could not start the node reaper');
  return reaper.pid;
}

async function reap(): Promise<void> {
  const log = (line: string): void =>
    appendFileSync(REAPER_LOG, `${new Date().toISOString()} [${process.pid}] ${line}\n`);
  for (;;) {
    const state = readNodeState();
    if (state === undefined) return; // Stopped normally.
    if (!isRunning(state.owner)) {
      log(`owner PID ${state.owner.pid} is gone; tearing down the node in ${state.dir}`);
      const report = await tearDownNode(state, log);
      log(
        `done in ${report.seconds.toFixed(1)}s${report.problems.length > 0 ? `; left: ${report.problems.join('; ')}` : ''}`,
      );
      return;
    }
    await sleep(1000);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await reap();
