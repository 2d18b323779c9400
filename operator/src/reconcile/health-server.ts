// /metrics, /healthz and /readyz for the operator's pod.
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export function startHealthServer(
  port: number,
  host: string,
  registry: Registry,
  ready: () => { ok: boolean; reason: string },
): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const state = ready();
      response.writeHead(state.ok ? 200 : 503, { 'content-type': 'text/plain' }).end(`${state.reason}\n`);
    } else if (path === '/metrics') {
      registry
        .metrics()
        .then((text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text))
        .catch(() => response.writeHead(500).end());
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
