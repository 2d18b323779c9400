// A Unix socket inside the pod for operators' commands (end-sessions.ts): no network port, so no
// firewall opening and nothing a client can reach; who may use it is who may `kubectl exec`. One
// JSON request a connection, one JSON answer.
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { Logger } from '../lib/log.ts';

export const DEFAULT_ADMIN_SOCKET = '/tmp/mtopo-mmp.sock';

export type AdminRequest = { command: 'end-sessions'; user: string };
export type AdminAnswer = { ok: true; ended: number } | { ok: false; error: string };

export async function startAdminSocket(
  path: string,
  handle: (request: AdminRequest) => Promise<AdminAnswer>,
  logger: Logger,
): Promise<{ close(): Promise<void> }> {
  rmSync(path, { force: true });
  const server: Server = createServer((socket) => {
    let input = '';
    socket.setEncoding('utf8');
    socket.on('error', () => undefined);
    const answerWith = (answer: AdminAnswer) => {
      logger.info({ request: input.trim().slice(0, 200), answer }, 'admin command');
      socket.end(`${JSON.stringify(answer)}\n`);
    };
    socket.on('data', (chunk: string) => {
      input += chunk;
      if (input.length > 4096) return socket.destroy();
      if (!input.includes('\n')) return;
      let request: Partial<AdminRequest>;
      try {
        request = JSON.parse(input) as Partial<AdminRequest>;
      } catch {
        return answerWith({ ok: false, error: 'not JSON' });
      }
      if (request.command !== 'end-sessions' || typeof request.user !== 'string' || request.user === '')
        return answerWith({ ok: false, error: 'expected {"command":"end-sessions","user":"NAME"}' });
      handle({ command: 'end-sessions', user: request.user }).then(answerWith, (error: unknown) =>
        answerWith({ ok: false, error: String(error) }),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        rmSync(path, { force: true });
      }),
  };
}
