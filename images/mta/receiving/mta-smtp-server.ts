// smtp-server with two changes, both in its connection class:
//
// 1. A reply whose text already starts with an enhanced status code (our policy's replies,
//    core/replies.ts) is sent as it is. smtp-server otherwise derives the code from the reply code
//    alone (550 → 5.1.1), which would turn "relay denied" (5.7.1) into "no such user".
//
// 2. The pause before the greeting is ours to set. smtp-server waits a hard-coded 100 ms so that a
//    client talking before the greeting (a spambot pipelining blindly) is caught and refused with
//    421; that costs every connection 100 ms, which caps a client that opens one connection per
//    message at 10 messages a second per session (FIELD-NOTES). The world-facing tiers keep 100 ms;
//    the internal tiers, whose only clients are our own MTAs behind the firewall, use a short window
//    that still refuses input arriving before the greeting.
//
// Everything else — the protocol, its guards, STARTTLS — is smtp-server's own.
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { SMTPConnection, type SMTPConnectionOptions } from 'smtp-server/lib/smtp-connection.js';

const OWN_STATUS = /^[245]\.\d{1,3}\.\d{1,3} /;

class MtaSmtpConnection extends SMTPConnection {
  override send(code: number, data?: string | string[] | null, context?: string | false): void {
    if (context === undefined && typeof data === 'string' && OWN_STATUS.test(data)) {
      super.send(code, data, false);
      return;
    }
    super.send(code, data, context);
  }

  // The same as SMTPConnection.init, with the greeting delay taken from the server.
  override init(): void {
    this._setListeners(() => {
      const server = this._server as MtaSmtpServer;
      if (server.options.maxClients && server.connections.size > server.options.maxClients) {
        this.send(421, `${this.name} Too many connected clients, try again in a moment`, false);
        return;
      }
      setTimeout(() => this.connectionReady(), server.greetingDelayMs).unref();
    });
  }
}

export class MtaSmtpServer extends SMTPServer {
  readonly greetingDelayMs: number;

  constructor(options: SMTPServerOptions & { greetingDelayMs: number }) {
    const { greetingDelayMs, ...rest } = options;
    super(rest);
    this.greetingDelayMs = greetingDelayMs;
  }

  // The same as SMTPServer.connect, with our connection class.
  override connect(
    socket: Socket | TLSSocket,
    socketOptions?: SMTPConnectionOptions | null,
  ): MtaSmtpConnection {
    const connection = new MtaSmtpConnection(this, socket, socketOptions);
    this.connections.add(connection);
    connection.on('error', (error: Error) => this._onError(error));
    connection.on('connect', (data: Parameters<SMTPServer['_onClientConnect']>[0]) =>
      this._onClientConnect(data),
    );
    connection.init();
    return connection;
  }
}
