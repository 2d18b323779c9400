import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { Registry } from 'prom-client';
import { ProgramShell } from './lifecycle.ts';

const logger = pino({ level: 'silent' });

describe('ProgramShell', () => {
  it('reports not ready while draining, drains in parallel, closes in order and the health server last', async () => {
    const events: string[] = [];
    const shell = await ProgramShell.start({
      program: 'test',
      common: { hostname: 'h', httpPort: 0, logLevel: 'info', drainSeconds: 7 },
      listenHost: '127.0.0.1',
      registry: new Registry(),
      logger,
      readiness: [{ name: 'disk', check: () => Promise.resolve() }],
    });
    const ready = async () => (await fetch(`http://127.0.0.1:${shell.httpPort}/readyz`)).status;
    assert.equal(await ready(), 200);
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    shell.onDrain(async (graceMs) => {
      events.push(`drain listener ${graceMs}`);
      await slow;
      events.push('listener drained');
    });
    shell.onDrain((graceMs) => {
      events.push(`drain queue ${graceMs}`);
      return Promise.resolve();
    });
    shell.onClose(() => void events.push('close directory'));
    shell.onClose(() => {
      throw new Error('a failing close step does not stop the others');
    });
    shell.onClose(() => void events.push('close spool'));
    const stopped = shell.stop();
    assert.equal(shell.stop(), stopped, 'stop() twice is one stop');
    assert.equal(await ready(), 503, 'draining: the Service sends no new clients');
    release();
    await stopped;
    assert.deepEqual(events, [
      'drain listener 7000',
      'drain queue 7000',
      'listener drained',
      'close directory',
      'close spool',
    ]);
    await assert.rejects(
      fetch(`http://127.0.0.1:${shell.httpPort}/healthz`),
      'the health server is closed last',
    );
  });
});
