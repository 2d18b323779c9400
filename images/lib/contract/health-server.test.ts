import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Counter, Registry } from 'prom-client';
import { formatResponse, parseRequestLine, startHealthServer, type HealthServer } from './health-server.ts';

const run = promisify(execFile);

describe('the health server, pure parts', () => {
  it('takes the method and the path (without the query) from an HTTP/1.x request line', () => {
    assert.deepEqual(parseRequestLine('GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n'), {
      method: 'GET',
      path: '/metrics',
    });
    assert.deepEqual(parseRequestLine('HEAD /healthz HTTP/1.0\r\n'), { method: 'HEAD', path: '/healthz' });
    for (const bad of [
      'garbage\r\n',
      'GET /healthz\r\n',
      'GET /healthz HTTP/2\r\n',
      'get / HTTP/1.1\r\n',
      '',
    ])
      assert.equal(parseRequestLine(bad), undefined, JSON.stringify(bad));
  });

  it('writes a closing response with its length; HEAD keeps the headers and drops the body', () => {
    const response = { status: 200, headers: { 'content-type': 'text/plain' }, body: 'ok\n' };
    const head =
      'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 3\r\nconnection: close\r\n\r\n';
    assert.equal(formatResponse(response).toString(), `${head}ok\n`);
    assert.equal(formatResponse(response, true).toString(), head);
    assert.match(
      formatResponse({ status: 503, body: 'é' }).toString(),
      /^HTTP\/1\.1 503 Service Unavailable\r\ncontent-length: 2\r\n/,
    );
  });
});

describe('the health server, asked by real clients', () => {
  const registry = new Registry();
  new Counter({ name: 'probe_test_total', help: 'a counter', registers: [registry] }).inc(3);
  let diskFull = false;
  let draining = false;
  let server: HealthServer;
  let url: string;
  before(async () => {
    server = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      registry,
      isDraining: () => draining,
      checkTimeoutMs: 200,
      readiness: [
        {
          name: 'disk',
          check: () => (diskFull ? Promise.reject(new Error('disk full')) : Promise.resolve()),
        },
        { name: 'directory', check: () => Promise.resolve() },
      ],
    });
    url = `http://127.0.0.1:${server.port}`;
  });
  after(() => server.close());

  /** Raw bytes in, the whole answer out (the server closes after it). */
  const exchange = (bytes: string, halfClose = true) =>
    new Promise<string>((resolve, reject) => {
      const socket = connect(server.port, '127.0.0.1', () => {
        socket.write(bytes);
        if (halfClose) socket.end();
      });
      let answer = '';
      socket.on('data', (chunk) => (answer += chunk.toString()));
      socket.on('close', () => resolve(answer));
      socket.on('error', reject);
    });

  it('answers fetch (undici): liveness, metrics, readiness', async () => {
    const health = await fetch(`${url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(await health.text(), 'ok\n');
    const metrics = await fetch(`${url}/metrics`);
    assert.equal(metrics.headers.get('content-type'), registry.contentType);
    assert.match(await metrics.text(), /^probe_test_total 3$/m);
    const ready = await fetch(`${url}/readyz?verbose`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { ready: true, checks: { disk: 'ok', directory: 'ok' } });
  });

  it('reports not ready with the reason while a check fails, and while draining', async () => {
    diskFull = true;
    const failing = await fetch(`${url}/readyz`);
    assert.equal(failing.status, 503);
    assert.deepEqual(await failing.json(), { ready: false, checks: { disk: 'disk full', directory: 'ok' } });
    diskFull = false;
    draining = true;
    const body = (await (await fetch(`${url}/readyz`)).json()) as { checks: Record<string, string> };
    assert.equal(body.checks.draining, 'shutting down');
    draining = false;
  });

  it('answers curl, HEAD included', async () => {
    const { stdout } = await run('curl', ['-s', '-i', `${url}/healthz`]);
    assert.match(stdout, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(stdout, /\r\n\r\nok\n$/);
    const head = await run('curl', ['-s', '-I', `${url}/healthz`]);
    assert.match(head.stdout, /content-length: 3\r\n/);
    assert.doesNotMatch(head.stdout, /ok\n$/);
  });

  it('refuses what it does not serve with the proper status', async () => {
    assert.equal((await fetch(`${url}/nope`)).status, 404);
    const post = await fetch(`${url}/healthz`, { method: 'POST', body: 'x'.repeat(100_000) });
    assert.equal(post.status, 405, 'a body it does not read does not reset the answer');
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    assert.match(await exchange('garbage\r\n\r\n'), /^HTTP\/1\.1 400 /);
    assert.match(await exchange(`GET / HTTP/1.1\r\nX: ${'a'.repeat(9000)}`, false), /^HTTP\/1\.1 431 /);
  });

  it('answers a client that closes its side after the request, not one that closes before its end', async () => {
    assert.match(await exchange('GET /healthz HTTP/1.0\r\n\r\n'), /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nok\n$/);
    assert.equal(await exchange('GET /healthz HTTP/1.0\r\n'), '');
  });

  it('closes, cutting off a client that never sent its request', async () => {
    const extra = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      registry,
      readiness: [],
      isDraining: () => false,
    });
    const silent = connect(extra.port, '127.0.0.1');
    await new Promise((resolve) => silent.once('connect', resolve));
    const gone = new Promise((resolve) => silent.once('close', resolve));
    await extra.close();
    await gone;
    await assert.rejects(fetch(`http://127.0.0.1:${extra.port}/healthz`));
  });
});
