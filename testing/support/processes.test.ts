// A failed start must leave no process behind: a test's `after` only stops what `before` assigned,
// so a server started beside one that failed would outlive the run (it once hung CI).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from './free-ports.ts';
import { isAlive, ManagedProcess, startTogether } from './processes.ts';
import { makeTempDir } from './temp-dir.ts';
import { waitFor } from './wait.ts';

const temp = makeTempDir('processes-test');
after(() => temp.remove());

function sleeper(name: string): ManagedProcess {
  return ManagedProcess.spawn(name, 'sleep', ['600'], { logFile: join(temp.path, `${name}.log`) });
}

describe('startTogether', () => {
  it('returns every value in order when all starts succeed', async () => {
    const first = sleeper('ok-1');
    const [a, b] = await startTogether([Promise.resolve(first), Promise.resolve('plain value')]);
    assert.equal(a, first);
    assert.equal(b, 'plain value');
    assert.equal(first.running, true);
    await first.stop();
  });

  it('stops the servers that started when another start fails, then throws its error', async () => {
    const started = sleeper('started');
    await assert.rejects(
      startTogether([Promise.resolve(started), Promise.reject(new Error('slapd did not start'))]),
      /slapd did not start/,
    );
    assert.equal(started.running, false);
    assert.equal(started.hasExited(), true);
  });
});

describe('ManagedProcess.whenListening', () => {
  it('fails at once, naming the process, when it exits before listening', async () => {
    const port = await freePort();
    const quitter = ManagedProcess.spawn('quitter', 'sh', ['-c', 'echo cannot bind >&2; exit 3'], {
      logFile: join(temp.path, 'quitter.log'),
    });
    const started = Date.now();
    await assert.rejects(quitter.whenListening(port), (error: Error) => {
      assert.match(error.message, /quitter exited/);
      assert.match(error.message, /cannot bind/);
      return true;
    });
    assert.ok(Date.now() - started < 15_000, 'did not wait out the timeout');
  });

  it('stops a process that never listens before it throws', async () => {
    const port = await freePort();
    const silent = sleeper('silent');
    await assert.rejects(silent.whenListening(port, '127.0.0.1', 500), /timed out after 500 ms/);
    assert.equal(silent.running, false);
  });
});

describe('cleanUpOnInterrupt', () => {
  it('stops what a run started when it gets SIGTERM, then exits 130', async () => {
    // A "benchmark" that starts a sleeper, then waits; SIGTERM must stop the sleeper by its PID.
    const pidFile = join(temp.path, 'sleeper.pid');
    const script = `
      import { writeFileSync } from 'node:fs';
      import { spawn } from 'node:child_process';
      import { cleanUpOnInterrupt } from ${JSON.stringify(new URL('./processes.ts', import.meta.url).href)};
      const sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
      cleanUpOnInterrupt(async () => { sleeper.kill('SIGKILL'); await new Promise((r) => sleeper.once('exit', r)); });
      writeFileSync(${JSON.stringify(pidFile)}, String(sleeper.pid));
      setInterval(() => {}, 1000);
    `;
    const bench = ManagedProcess.spawn('bench', process.execPath, ['--input-type=module', '-e', script], {
      logFile: join(temp.path, 'bench.log'),
    });
    const sleeperPid = Number(
      await waitFor('the sleeper to start', () =>
        existsSync(pidFile) ? readFileSync(pidFile, 'utf8') : undefined,
      ),
    );
    assert.ok(isAlive(sleeperPid));
    bench.signal('SIGTERM');
    assert.equal(await bench.exitStatus, 130);
    assert.equal(isAlive(sleeperPid), false);
  });
});
