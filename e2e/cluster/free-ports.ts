// Ports for the test control plane, chosen by the kernel on 127.0.0.1 so parallel runs (two
// developers' test suites, CI next to a local run) never collide on fixed numbers.
import { createServer, type Server } from 'node:net';

function listenOnAnyLoopbackPort(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => resolve(server));
  });
}

/**
 * `count` distinct free ports. All are held open until every one is picked, so they differ from
 * each other; between closing them and the servers binding there is a small window, as with any
 * port picker.
 */
export async function pickFreeLoopbackPorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let index = 0; index < count; index++) {
      servers.push(await listenOnAnyLoopbackPort());
    }
    return servers.map((server) => {
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('not a TCP address');
      return address.port;
    });
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}
