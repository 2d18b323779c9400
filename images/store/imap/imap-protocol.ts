// The IMAP protocol as the store program's listener runs it (store-server.ts: `protocols.imap`):
// one accepted connection in, a drainable session out. The context is the program's ProtocolContext;
// only what IMAP uses is named here, so this file does not depend on the shell's.
import type { SecureContext } from 'node:tls';
import type { Socket } from 'node:net';
import type { Counter, Gauge } from 'prom-client';
import type { ListenerConfig } from '../../lib/contract/common.ts';
import type { Logger } from '../../lib/log.ts';
import type { AcceptedConnection, DrainableSession } from '../../lib/server/listener.ts';
import type { MessageStore } from '../mailbox/api.ts';
import { openImapConnection } from './imap-server.ts';
import type { LoginCheck } from './session.ts';

export interface ImapProtocolContext {
  readonly config: { readonly common: { readonly hostname: string }; readonly maxMessageBytes: number };
  readonly store: MessageStore;
  readonly logger: Logger;
  readonly metrics: {
    readonly sessions: Gauge<'protocol'>;
    readonly sessionsTotal: Counter<'protocol'>;
    readonly commands: Counter<'protocol' | 'command' | 'result'>;
  };
  readonly tls: (() => SecureContext) | undefined;
  readonly login: LoginCheck;
}

/** Sessions per user across every IMAP listener of the program. */
const userSessions = new Map<string, number>();

export const imapProtocol = {
  name: 'imap' as const,
  handle(
    connection: AcceptedConnection,
    socket: Socket,
    context: ImapProtocolContext,
    listener: ListenerConfig,
  ): DrainableSession {
    const session = openImapConnection(socket, {
      store: context.store,
      login: context.login,
      hostname: context.config.common.hostname,
      maxMessageBytes: context.config.maxMessageBytes,
      tls: listener.tls === 'starttls' ? 'starttls' : 'none',
      ...(listener.tls === 'starttls' && context.tls ? { secureContext: context.tls } : {}),
      // The shell has done the implicit-TLS handshake (imaps) before handing the socket over.
      alreadySecure: listener.tls === 'implicit',
      remoteAddress: connection.remoteAddress,
      userSessions,
      log: context.logger,
      onSessionStart: () => context.metrics.sessionsTotal.inc({ protocol: 'imap' }),
      metrics: {
        command: (command, status) =>
          context.metrics.commands.inc({ protocol: 'imap', command, result: status.toLowerCase() }),
      },
    });
    context.metrics.sessions.inc({ protocol: 'imap' });
    void session.ended.then(() => context.metrics.sessions.dec({ protocol: 'imap' }));
    return session;
  },
};
