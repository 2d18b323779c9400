import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claim, freePorts, release } from './free-ports.ts';

const ephemeralStart = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0]);

interface ChildClaim {
  readonly ports: number[];
  /** Lets the child exit (releasing its claims), and waits for it. */
  readonly exit: () => Promise<void>;
}

/** Ports claimed by another process, held until `exit()`. */
function portsFromChild(count: number): Promise<ChildClaim> {
  const script = `import { freePorts } from ${JSON.stringify(new URL('./free-ports.ts', import.meta.url).href)};
    const ports = await freePorts(${count}); process.stdout.write(JSON.stringify(ports) + '\\n');
    await new Promise((r) => process.stdin.once('data', r));`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (!output.endsWith('\n')) return;
      resolve({
        ports: JSON.parse(output) as number[],
        exit: async () => {
          child.stdin.end('done');
          await exited;
        },
      });
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
  const children = await Promise.all([portsFromChild(200), portsFromChild(200)]);
  try {
    const all = [...mine, ...children.flatMap((c) => c.ports)];
    assert.equal(new Set(all).size, all.length);
  } finally {
    await Promise.all(children.map((c) => c.exit()));
  }
});

test('a claim left by a process that is gone is taken over', async () => {
  const child = await portsFromChild(1);
  await child.exit();
  const leftBehind = child.ports;
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
