// The HTTP side of every program: /metrics for Prometheus, /healthz for the kubelet's liveness probe
// (the process answers) and /readyz for its readiness probe (the program can do its job: each check
// passes). A draining program reports not ready so that the Service stops sending it new clients.
// It lives with the contract because the operator serves the same three paths (and renders the
// probes that call them): one server for every program and the operator, depending on nothing but
// Node (prom-client's Registry is only a type here).
//
// HTTP/1.1 on a plain `net` server, not `node:http`: GET and HEAD of three paths, one request per
// connection (`connection: close`), which is all that probes and scrapers send. node:http and its
// parser are 5-10 MiB of every program's resident memory (docs/performance.md, MMP, tenth round),
// and an MMP or a store holding 10,000 idle sessions is measured against nginx and Dovecot on it.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
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

/** What the server needs of a request: the first line of its head. Undefined when it is not HTTP. */
export function parseRequestLine(head: string): { method: string; path: string } | undefined {
  const match = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(head.split('\r\n', 1)[0]!);
  if (!match) return undefined;
  return { method: match[1]!, path: match[2]!.split('?')[0]! };
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export interface HealthResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** The bytes of a response; a HEAD request's has the headers of the GET's and no body. */
export function formatResponse(response: HealthResponse, headOnly = false): Buffer {
  const body = Buffer.from(response.body ?? '');
  const lines = [`HTTP/1.1 ${response.status} ${STATUS_TEXT[response.status] ?? 'Unknown'}`];
  for (const [name, value] of Object.entries(response.headers ?? {})) lines.push(`${name}: ${value}`);
  lines.push(`content-length: ${body.length}`, 'connection: close', '', '');
  const head = Buffer.from(lines.join('\r\n'), 'latin1');
  return headOnly ? head : Buffer.concat([head, body]);
}

/** A request head longer than this is refused (431): a probe's is a few hundred bytes. */
const MAX_HEAD_BYTES = 8 * 1024;
/** A client that has not sent its head by then, or not gone after the answer, is cut off. */
const REQUEST_TIMEOUT_MS = 10_000;

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const timeoutMs = options.checkTimeoutMs ?? 2000;
  const open = new Set<Socket>();

  async function answer(method: string, path: string): Promise<HealthResponse> {
    if (method !== 'GET' && method !== 'HEAD') return { status: 405, headers: { allow: 'GET, HEAD' } };
    if (path === '/healthz') return { status: 200, headers: { 'content-type': 'text/plain' }, body: 'ok\n' };
    if (path === '/metrics') {
      try {
        const text = await options.registry.metrics();
        return { status: 200, headers: { 'content-type': options.registry.contentType }, body: text };
      } catch (error) {
        return { status: 500, body: `${describeError(error)}\n` };
      }
    }
    if (path === '/readyz') {
      const { ready, checks } = await readiness();
      const body = `${JSON.stringify({ ready, checks })}\n`;
      return { status: ready ? 200 : 503, headers: { 'content-type': 'application/json' }, body };
    }
    return { status: 404, headers: { 'content-type': 'text/plain' }, body: 'not found\n' };
  }

  function serve(socket: Socket): void {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy());
    let head = '';
    let answered = false;
    // A client may close its side once it has sent its request (allowHalfOpen); one that closes
    // before its head is complete gets nothing.
    socket.on('end', () => {
      if (!answered) socket.destroy();
    });
    const reply = (response: HealthResponse, headOnly = false) => {
      answered = true;
      socket.removeListener('data', onData);
      // Whatever else the client sends (a body) is read and dropped until it goes: closing with
      // unread bytes would reset the connection under the answer.
      socket.resume();
      socket.end(formatResponse(response, headOnly));
    };
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > MAX_HEAD_BYTES) reply({ status: 431 });
        return;
      }
      const request = parseRequestLine(head.slice(0, end + 2));
      if (!request) return reply({ status: 400 });
      answered = true;
      socket.pause();
      void answer(request.method, request.path).then((response) =>
        reply(response, request.method === 'HEAD'),
      );
    };
    socket.on('data', onData);
  }

  const server: Server = createServer({ allowHalfOpen: true }, serve);

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
        for (const socket of open) socket.destroy();
      }),
  };
}
