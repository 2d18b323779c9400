// The HTTP side of every program: /metrics for Prometheus, /healthz for the kubelet's liveness probe
// (the process answers) and /readyz for its readiness probe (the program can do its job: each check
// passes). A draining program reports not ready so that the Service stops sending it new clients.
// It lives with the contract because the operator serves the same three paths (and renders the
// probes that call them): one server for every program and the operator, depending on nothing but
// Node (prom-client's Registry is only a type here).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

const describeError = (error: unknown) => (error instanceof Error ? error.message : String(error));

export interface ReadinessCheck {
  name: string;
  /** Resolves when the dependency is usable; rejects with the reason when not. */
  check: () => Promise<void>;
}

export interface HealthServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  readiness: ReadinessCheck[];
  /** True once SIGTERM arrived: the program finishes what it has and takes nothing new. */
  isDraining: () => boolean;
  checkTimeoutMs?: number;
}

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([check.check().then(() => null), timeout]);
  } catch (error) {
    return describeError(error);
  } finally {
    clearTimeout(timer);
  }
}

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const timeoutMs = options.checkTimeoutMs ?? 2000;
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': options.registry.contentType }).end(text),
        (error: unknown) => response.writeHead(500).end(`${describeError(error)}\n`),
      );
      return;
    }
    if (path === '/readyz') {
      void readiness().then(({ ready, checks }) => {
        response
          .writeHead(ready ? 200 : 503, { 'content-type': 'application/json' })
          .end(`${JSON.stringify({ ready, checks })}\n`);
      });
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });

  async function readiness(): Promise<{ ready: boolean; checks: Record<string, string> }> {
    const checks: Record<string, string> = {};
    if (options.isDraining()) checks.draining = 'shutting down';
    const results = await Promise.all(options.readiness.map((c) => runCheck(c, timeoutMs)));
    options.readiness.forEach((c, i) => {
      checks[c.name] = results[i] ?? 'ok';
    });
    const ready = !options.isDraining() && results.every((r) => r === null);
    return { ready, checks };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
