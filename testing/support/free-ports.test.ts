import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claim, freePorts, release } from './free-ports.ts';

const ephemeralStart = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0]);

function portsFromChild(count: number): Promise<number[]> {
  const script = `import { freePorts } from ${JSON.stringify(new URL('./free-ports.ts', import.meta.url).href)};
    const ports = await freePorts(${count}); process.stdout.write(JSON.stringify(ports));
    await new Promise((r) => process.stdin.once('data', r));`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    child.stdout.once('data', (chunk: Buffer) => {
      resolve(JSON.parse(chunk.toString()) as number[]);
      child.stdin.end('done');
    });
    child.once('error', reject);
  });
}

test('ports are distinct, below the ephemeral range and bindable', async () => {
  const ports = await freePorts(50);
  assert.equal(new Set(ports).size, 50);
  for (const port of ports) assert.ok(port < ephemeralStart, `${port} is below ${ephemeralStart}`);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: ports[0] }, resolve));
  await new Promise((resolve) => server.close(resolve));
});

test('another process is never handed a port this one holds', async () => {
  const mine = new Set(await freePorts(200));
  const [theirs, others] = await Promise.all([portsFromChild(200), portsFromChild(200)]);
  const all = [...mine, ...theirs, ...others];
  assert.equal(new Set(all).size, all.length);
});

test('a claim left by a process that is gone is taken over', async () => {
  const leftBehind = await portsFromChild(1);
  // The child released its claim on exit; forge a stale one as a killed run would leave it.
  const port = leftBehind[0]!;
  writeFileSync(join(tmpdir(), 'mtopo-test-ports', String(port)), '999999999');
  try {
    assert.equal(claim(port), true);
    assert.equal(readFileSync(join(tmpdir(), 'mtopo-test-ports', String(port)), 'utf8'), String(process.pid));
  } finally {
    release(port);
  }
});
