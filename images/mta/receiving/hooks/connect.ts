// onConnect, onSecure, onClose: may this client talk to this listener at all; AUTH appears only once
// the session is encrypted; the session's state is forgotten when it ends.
import type { SMTPServerSession } from 'smtp-server';
import { connectionRefusal } from '../../core/policy.ts';
import { REPLIES } from '../../core/replies.ts';
import type { SessionContext } from '../session-context.ts';

type Done = (error?: Error | null) => void;

export function connectHooks(context: SessionContext) {
  const { deps, listener } = context;
  return {
    onConnect: (session: SMTPServerSession, callback: Done): void => {
      const state = context.open(session);
      deps.metrics.connections.inc({ role: deps.role, listener: listener.name });
      const refusal = connectionRefusal({
        role: deps.role,
        channel: listener.channel,
        remoteAddress: state.client,
        acceptFrom: listener.acceptFrom,
        draining: deps.isDraining(),
        connectionsFromClient: deps.connections.count(state.client),
        maxConnectionsPerClient: listener.maxConnectionsPerClient,
      });
      if (refusal) return callback(context.refuse('connect', refusal, session));
      // A client that harvested addresses in earlier sessions waits out its lockout.
      if (deps.recipientPenalties.check(`client:${state.client}`).kind === 'locked')
        return callback(context.refuse('connect', REPLIES.tooManyRecipientErrorsFromClient, session));
      // XCLIENT stays hidden until the proxy has proven itself (hooks/auth.ts), and AUTH until the
      // session is encrypted: no password crosses the network in clear (RFC 8314 section 3, like
      // Postfix's smtpd_tls_auth_only).
      if (context.submission) {
        session.disabledCommands = [
          ...(deps.xclient ? ['XCLIENT'] : []),
          ...(session.secure ? [] : ['AUTH']),
        ];
      }
      callback();
    },

    onSecure: (_socket: unknown, session: SMTPServerSession, callback: Done): void => {
      if (context.submission)
        session.disabledCommands = (session.disabledCommands ?? []).filter((c) => c !== 'AUTH');
      callback();
    },

    onClose: (session: SMTPServerSession): void => {
      if (context.close(session)) deps.metrics.connections.dec({ role: deps.role, listener: listener.name });
    },
  };
}
