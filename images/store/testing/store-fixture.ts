// An engine on a temp dir and protocol servers on free loopback ports, in this process, for
// transcript tests. The protocol tests (*.ptest.ts) run the real program instead (store-process.ts).
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { createLogger } from '../../lib/log.ts';
import { makeTempDir } from '../../../testing/support/temp-dir.ts';
import { MailStore, type MailStoreOptions } from '../mailbox/mail-store.ts';
import { LineConnection } from '../protocol/line-connection.ts';

export const silentLogger = createLogger({ program: 'store-test', level: 'silent' });

export interface StoreFixture {
  readonly store: MailStore;
  readonly dataDir: string;
  /** Serves `session` on a free loopback port; returns the port. */
  serve(session: (conn: LineConnection) => Promise<void>): Promise<number>;
  close(): Promise<void>;
}

export async function startStoreFixture(
  name: string,
  options: Partial<MailStoreOptions> = {},
): Promise<StoreFixture> {
  const temp = makeTempDir(name);
  const dataDir = join(temp.path, 'data');
  const store = await MailStore.open({
    dataDir,
    quota: { storageBytes: undefined, messages: undefined },
    maxMessageBytes: 10 * 1024 * 1024,
    ...options,
  });
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  return {
    store,
    dataDir,
    async serve(session) {
      const server = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => undefined);
        const conn = new LineConnection(socket, { maxBufferedBytes: 1024 * 1024, idleTimeoutMs: 30_000 });
        session(conn).catch(() => socket.destroy());
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers.push(server);
      const address = server.address();
      return typeof address === 'object' && address ? address.port : 0;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
      await store.close();
      temp.remove();
    },
  };
}
