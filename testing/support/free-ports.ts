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

// Ports this process has handed out already. A harness asks for ports one at a time (an MTA's SMTP
// port, then its metrics port), each closed before the next is picked, and the kernel may well
// give a just-closed port again: without this memory two listeners of one program got the same
// port now and then (EADDRINUSE at start).
const handedOut = new Set<number>();

/** `count` distinct free ports, none handed out before by this process. */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  const picked: number[] = [];
  try {
    while (picked.length < count) {
      const server = await listenOnAnyLoopbackPort();
      servers.push(server);
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('not a TCP address');
      if (handedOut.has(address.port)) continue;
      handedOut.add(address.port);
      picked.push(address.port);
    }
    return picked;
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  if (port === undefined) throw new Error('no free port');
  return port;
}
