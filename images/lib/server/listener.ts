// One listening port of a mail program (SMTP, LMTP, IMAP, POP alike). The socket is ours, not the
// protocol library's, so that:
//   - a PROXY header (v1 or v2, from the load balancer) is taken off first and the session sees the
//     client's real address — believed only from the peers the config names (proxyProtocolFrom),
//     so no program has to check who sent it; any other peer is refused or, if the config says so,
//     served as a direct client by its own address;
//   - connections are counted per client address (ClientConnections), which the protocol uses to
//     refuse a client that holds too many, in its own words (SMTP 421, IMAP "* BYE");
//   - draining is the same everywhere: on SIGTERM stop accepting, tell idle sessions goodbye at once,
//     let busy ones finish (an SMTP transaction, an IMAP FETCH) up to the grace period, then say
//     goodbye to whoever is left, and finally cut what still hangs on.
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { AddressSet } from '../contract/cidr.ts';
import type { ListenerConfig } from '../contract/common.ts';
import { describeError } from '../errors.ts';
import { ClientConnections } from './client-limits.ts';
import { readProxyHeader } from './proxy-socket.ts';

/** A balancer sends its header at once; a peer that does not within this time is not one. */
export const PROXY_HEADER_TIMEOUT_MS = 10_000;
/** How often a draining listener looks for sessions that have become idle. */
const DRAIN_POLL_MS = 250;
/** After the last goodbye, how long a peer gets to close its end before the socket is cut. */
const GOODBYE_GRACE_MS = 2000;

/**
 * Every accepted socket's error listener (an error is followed by 'close', which ends the session).
 * Shared, so that a program that splices a socket can take this one off by name when it listens
 * for errors itself: two listeners would make an array for the socket's life.
 */
export function ignoreError(): void {}

/** What the listener needs from a protocol session to drain it. */
export interface DrainableSession {
  /** Between transactions or commands: closing now loses nothing. */
  isIdle(): boolean;
  /** Sends the protocol's goodbye ("421 4.3.2 …", "* BYE …") and closes the session. */
  goodbye(): void;
}

export interface AcceptedConnection {
  socket: Socket;
  /** The client's address and port: from the PROXY header when there is one. */
  remoteAddress: string;
  remotePort: number;
  /** True when a PROXY header named the client (the socket's own peer is the balancer). */
  proxied: boolean;
  /** How many connections this client has open on this program, this one included. */
  connectionsFromClient: number;
}

/** Why the listener closed a connection itself: a peer that may not send PROXY, or a bad header. */
export type ConnectionRefusal = 'untrusted-proxy' | 'bad-proxy-header';

export interface ListenerOptions {
  config: ListenerConfig;
  host: string;
  logger: Logger;
  /** Hands the connection to the protocol; returns the session, for draining. */
  onConnection: (connection: AcceptedConnection) => DrainableSession;
  /** A connection the listener closed before the protocol saw it (for the program's metrics). */
  onRefused?: (reason: ConnectionRefusal) => void;
  /** Shared between a program's listeners, so the per-client limit spans its ports. */
  clients?: ClientConnections;
  proxyHeaderTimeoutMs?: number;
}

export interface Listener {
  readonly name: string;
  readonly port: number;
  /** Open connections (PROXY headers still being read included). */
  readonly open: number;
  readonly clients: ClientConnections;
  /** Stops accepting; sessions in progress go on. */
  stopAccepting(): void;
  /** Waits for busy sessions up to `graceMs` (idle ones are closed at once), then closes the rest. */
  drain(graceMs: number): Promise<void>;
}

export async function startListener(options: ListenerOptions): Promise<Listener> {
  const { config, logger } = options;
  const proxy = config.proxyProtocol;
  const trustedProxies = new AddressSet(config.proxyProtocolFrom ?? []);
  const clients = options.clients ?? new ClientConnections();
  const sockets = new Set<Socket>();
  const sessions = new Map<Socket, DrainableSession>();
  let accepting = true;

  /** The client address each admitted socket is counted under, until it closes. */
  const counted = new WeakMap<Socket, string>();
  const admit = (socket: Socket, address: string, port: number, proxied: boolean) => {
    const connectionsFromClient = clients.open(address);
    counted.set(socket, address);
    try {
      sessions.set(
        socket,
        options.onConnection({
          socket,
          remoteAddress: address,
          remotePort: port,
          proxied,
          connectionsFromClient,
        }),
      );
    } catch (error) {
      logger.error({ listener: config.name, err: describeError(error) }, 'cannot start a session');
      socket.destroy();
    }
  };

  function onClose(this: Socket): void {
    sockets.delete(this);
    sessions.delete(this);
    const address = counted.get(this);
    if (address !== undefined) clients.close(address);
  }

  const server: Server = createServer({ pauseOnConnect: proxy !== 'none' }, (socket: Socket) => {
    sockets.add(socket);
    // One plain listener each for 'close' and 'error', shared by every socket: a program may hold
    // thousands of idle connections, and a closure (or a once() wrapper) each would stay with every
    // one for its life (docs/performance.md, MMP, sixth round).
    socket.on('close', onClose);
    socket.on('error', ignoreError);
    const own = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    if (proxy === 'none') {
      admit(socket, own.address, own.port, false);
      return;
    }
    if (!trustedProxies.has(own.address)) {
      if ((config.proxyProtocolOthers ?? 'refuse') === 'direct') {
        // Paused as a socket is after a header was read, so the protocol starts it the same way.
        socket.pause();
        admit(socket, own.address, own.port, false);
        return;
      }
      options.onRefused?.('untrusted-proxy');
      logger.warn(
        { listener: config.name, peer: own.address },
        'connection refused: this peer may not send a PROXY header',
      );
      socket.destroy();
      return;
    }
    readProxyHeader(socket, proxy, options.proxyHeaderTimeoutMs ?? PROXY_HEADER_TIMEOUT_MS).then(
      (peer) => {
        if (socket.destroyed) return;
        // A LOCAL header is the balancer speaking for itself (its health checks).
        if (peer.address) admit(socket, peer.address, peer.port ?? 0, true);
        else admit(socket, own.address, own.port, false);
      },
      (error: unknown) => {
        options.onRefused?.('bad-proxy-header');
        logger.warn(
          { listener: config.name, peer: own.address, err: describeError(error) },
          'PROXY header refused',
        );
        socket.destroy();
      },
    );
  });
  // Past the limit the kernel's backlog holds the rest; the protocol refuses politely below it.
  server.maxConnections = config.maxConnections + 16;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info(
    {
      listener: config.name,
      port,
      tls: config.tls,
      proxyProtocol: proxy,
      ...(proxy === 'none'
        ? {}
        : {
            proxyProtocolFrom: config.proxyProtocolFrom ?? [],
            proxyProtocolOthers: config.proxyProtocolOthers ?? 'refuse',
          }),
    },
    'listening',
  );

  const stopAccepting = () => {
    if (!accepting) return;
    accepting = false;
    // close() stops listening at once; its callback would wait for every connection to end.
    server.close();
  };
  const waitForSockets = async (ms: number, each?: () => void) => {
    const deadline = Date.now() + ms;
    while (sockets.size > 0 && Date.now() < deadline) {
      each?.();
      await new Promise((r) => setTimeout(r, Math.max(1, Math.min(DRAIN_POLL_MS, deadline - Date.now()))));
    }
  };
  const goodbye = (onlyIdle: boolean) => {
    for (const [socket, session] of sessions) {
      if (onlyIdle && !session.isIdle()) continue;
      sessions.delete(socket);
      try {
        session.goodbye();
      } catch {
        socket.destroy();
      }
    }
  };

  return {
    name: config.name,
    port,
    clients,
    get open() {
      return sockets.size;
    },
    stopAccepting,
    drain: async (graceMs) => {
      stopAccepting();
      // Idle sessions (a client holding a connection for its next message) have nothing to finish:
      // tell them now, and each session that becomes idle while the others finish.
      await waitForSockets(graceMs, () => goodbye(true));
      goodbye(false);
      await waitForSockets(GOODBYE_GRACE_MS);
      for (const socket of sockets) socket.destroy();
    },
  };
}
