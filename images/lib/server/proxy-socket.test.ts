import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { test } from 'node:test';
import { buildProxyHeader } from './proxy-protocol.ts';

// The server runs in a child process under a 3 GB address-space limit: the defect this pins down
// was a loop that grew memory by gigabytes a second with the event loop starved, which no timer in
// the test's own process could have stopped.
const SERVER = `
const { readProxyHeader } = await import(${JSON.stringify(new URL('./proxy-socket.ts', import.meta.url).href)});
const { createServer } = await import('node:net');
const server = createServer({ pauseOnConnect: true }, (socket) => {
  readProxyHeader(socket, 'v2', 10000).then((peer) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (data) => (text += data));
    socket.on('end', () => {
      process.stdout.write(JSON.stringify({ peer, text }) + '\\n');
      process.exit(0);
    });
    socket.resume();
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

test('the client bytes that share the PROXY header segment are read once, after the header', async () => {
  const child = spawn('prlimit', ['--as=3000000000', process.execPath, '--input-type=module', '-e', SERVER], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  let pending = '';
  const nextLine = () =>
    new Promise<string>((resolve, reject) => {
      const take = () => {
        const line = lines.shift();
        if (line !== undefined) resolve(line);
        else child.stdout.once('data', take);
      };
      child.once('exit', (code) => reject(new Error(`the server exited with ${code}`)));
      take();
    });
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (data: string) => {
    pending += data;
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    lines.push(...parts);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    const port = Number(await nextLine());
    const socket = connect({ port, host: '127.0.0.1' });
    await new Promise((resolve) => socket.once('connect', resolve));
    const header = buildProxyHeader(
      'v2',
      { address: '203.0.113.9', port: 40000 },
      { address: '127.0.0.1', port },
    );
    // One write, so header and the client's first command arrive together (an early talker, or
    // a TLS ClientHello right behind the balancer's header).
    socket.end(Buffer.concat([header, Buffer.from('EHLO client.example\r\n')]));
    const result = JSON.parse(await nextLine()) as { peer: { address: string }; text: string };
    assert.equal(result.peer.address, '203.0.113.9');
    assert.equal(result.text, 'EHLO client.example\r\n');
    assert.equal(await exited, 0);
  } finally {
    child.kill('SIGKILL');
  }
});
