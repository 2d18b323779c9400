// One listening port of the MTA. The socket is ours (not smtp-server's), so that a PROXY header —
// v1 or v2, which smtp-server cannot read — is taken off first; the session then goes to
// smtp-server with the client's real address. Implicit TLS (465) is started by smtp-server itself
// right after that (its `needsUpgrade` mode).
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ListenerConfig } from '../../lib/config/common.ts';
import { describeError } from '../../lib/errors.ts';
import { readProxyHeader } from '../../lib/proxy-socket.ts';
import type { MtaSmtpServer } from './mta-smtp-server.ts';

/** A balancer sends its header at once; a peer that does not within this time is not one. */
const PROXY_HEADER_TIMEOUT_MS = 10_000;

export interface Listener {
  readonly name: string;
  readonly port: number;
  /** Stops accepting; sessions in progress go on. */
  stopAccepting(): Promise<void>;
  /** Waits for the sessions to end, up to `graceMs`, then closes what is left with 421. */
  drain(graceMs: number): Promise<void>;
}

export async function startListener(options: {
  config: ListenerConfig;
  host: string;
  smtp: MtaSmtpServer;
  logger: Logger;
}): Promise<Listener> {
  const { config, smtp, logger } = options;
  const proxy = config.proxyProtocol;
  const server: Server = createServer({ pauseOnConnect: proxy !== 'none' }, (socket: Socket) => {
    socket.on('error', () => undefined);
    if (proxy === 'none') {
      smtp.connect(socket, {});
      return;
    }
    readProxyHeader(socket, proxy, PROXY_HEADER_TIMEOUT_MS).then(
      (peer) => {
        smtp.connect(socket, peer.address ? { remoteAddress: peer.address, remotePort: peer.port ?? 0 } : {});
      },
      (error: unknown) => {
        logger.warn(
          { listener: config.name, peer: socket.remoteAddress, err: describeError(error) },
          'PROXY header refused',
        );
        socket.destroy();
      },
    );
  });
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
  logger.info({ listener: config.name, port, tls: config.tls, proxyProtocol: proxy }, 'listening');
  return {
    name: config.name,
    port,
    // close() stops listening at once; its callback would wait for every connection to end.
    stopAccepting: () => {
      server.close();
      return Promise.resolve();
    },
    drain: async (graceMs) => {
      // Sessions finish the transaction they are in (new ones are refused with 421 by the session
      // policy); whoever is still connected when the grace period ends gets smtp-server's 421.
      const wait = async (ms: number) => {
        const deadline = Date.now() + ms;
        while (smtp.connections.size > 0 && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 50));
      };
      // Idle sessions (a client holding a connection open for its next message) have nothing to
      // finish: tell them now, rather than at the end of the grace period.
      const closeIdle = () => {
        for (const connection of smtp.connections) {
          if (!connection.session?.envelope?.mailFrom)
            connection.send(421, '4.3.2 Service shutting down, try again later');
        }
      };
      closeIdle();
      const deadline = Date.now() + graceMs;
      while (smtp.connections.size > 0 && Date.now() < deadline) {
        await wait(Math.min(250, deadline - Date.now()));
        closeIdle();
      }
      smtp.close();
      await wait((smtp.options.closeTimeout ?? 1000) + 1000);
    },
  };
}
