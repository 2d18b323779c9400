// Loopback ports nobody listens on right now, chosen by the kernel, so parallel runs (two
// developers' suites, CI beside a local run) never collide on fixed numbers. Another process could
// take a port before the server binds it; the window is short, and that server's start fails loudly.
import { createServer, type Server } from 'node:net';

function listenOnAnyLoopbackPort(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => resolve(server));
  });
}

/** `count` distinct free ports: all are held open until every one is picked, so they differ. */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let index = 0; index < count; index++) servers.push(await listenOnAnyLoopbackPort());
    return servers.map((server) => {
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('not a TCP address');
      return address.port;
    });
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  if (port === undefined) throw new Error('no free port');
  return port;
}
