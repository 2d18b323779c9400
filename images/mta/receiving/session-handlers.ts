// smtp-server's hooks, wired to the MTA's policy (core/policy.ts), routing (core/routing.ts), the
// directory and the spool. Each hook asks the pure core and turns a refusal into the reply it names;
// nothing here decides policy of its own.
//
//   onConnect  network allowed for the role? too many connections from this client? draining?
//   onAuth     PLAIN/LOGIN (smtp-server offers them only over TLS) checked by a directory bind;
//              the XCLIENT proxy's proof; XCLIENT LOGIN from a proven proxy
//   onMailFrom rate limit, then the sender rules
//   onRcptTo   the relay rules, then routing with the directory's answer: unknown user 550 5.1.1,
//              directory down 451 4.4.3 — decided while the sender still holds the message
//   onData     Received: header, smuggling guard, spool with fsync, and only then 250
import type {
  SMTPServerAddress,
  SMTPServerAuthentication,
  SMTPServerAuthenticationResponse,
  SMTPServerDataStream,
  SMTPServerSession,
} from 'smtp-server';
import type { Logger } from 'pino';
import type { DirectoryClient } from '../../lib/directory/directory-client.ts';
import { describeError, isMtopoError } from '../../lib/errors.ts';
import { checkXclientProof, isXclientProxyLogin, type XclientTrust } from '../../lib/auth/proofs.ts';
import type { AddressSet } from '../../lib/contract/cidr.ts';
import type { ClientConnections, ClientRateLimiter } from '../../lib/server/client-limits.ts';
import { parseMailbox } from '../core/address.ts';
import { newQueueId, type Envelope } from '../core/envelope.ts';
import {
  connectionRefusal,
  ownedAddresses,
  recipientVerdict,
  senderVerdict,
  type Role,
  type SessionUser,
} from '../core/policy.ts';
import { receivedHeader } from '../core/received-header.ts';
import { REPLIES, replyText, type SmtpReply } from '../core/replies.ts';
import type { RecipientRouter } from '../core/routing.ts';
import type { RecipientVerifier } from '../delivery/recipient-probe.ts';
import { SmugglingGuard } from '../core/smuggling-guard.ts';
import type { MtaMetrics } from '../metrics.ts';
import type { Spool, SpooledMessage } from '../spool/spool.ts';

export interface SessionHandlerOptions {
  role: Role;
  hostname: string;
  /** Whether this listener takes submission (AUTH) — the outbound role. */
  submission: boolean;
  router: RecipientRouter;
  directory: DirectoryClient | undefined;
  acceptFrom: AddressSet;
  /** Outbound with an MMP proxy: the shared secret and where the proxy may connect from. */
  xclient: XclientTrust | undefined;
  spool: Spool;
  /** Counted by the listener (images/lib/server/listener.ts), this connection included. */
  connections: ClientConnections;
  /**
   * Per-client message rate; only for the world-facing tiers. The inbound and gateway tiers are fed
   * by a handful of our own pods, and a per-client rate there would throttle the whole site.
   */
  rateLimiter: ClientRateLimiter | undefined;
  /** The internet-facing tier: asks the inbound tier whether a recipient exists (call-ahead). */
  verifier: RecipientVerifier | undefined;
  maxConnectionsPerClient: number;
  isDraining: () => boolean;
  /** Called once a message is in the spool and acknowledged. */
  onQueued: (message: SpooledMessage) => void;
  metrics: MtaMetrics;
  logger: Logger;
  now?: () => number;
}

interface SessionState {
  /** The address the connection came from (after PROXY, before any XCLIENT). */
  client: string;
  listener: string;
  proxyProven: boolean;
}

export type ReplyError = Error & { responseCode: number };

function replyError(reply: SmtpReply): ReplyError {
  return Object.assign(new Error(replyText(reply)), { responseCode: reply.code });
}

/** Reads a DATA stream to its end whatever happens, so smtp-server's parser never sees message bytes as commands. */
function consume(stream: SMTPServerDataStream, onChunk: (chunk: Buffer) => Promise<void>): Promise<unknown> {
  return new Promise((resolve) => {
    let failure: unknown;
    stream.on('data', (chunk: Buffer) => {
      if (failure !== undefined) return;
      stream.pause();
      onChunk(chunk).then(
        () => stream.resume(),
        (error: unknown) => {
          failure = error;
          stream.resume();
        },
      );
    });
    stream.once('end', () => resolve(failure));
    // A client that goes away mid-message: smtp-server destroys the stream, which never ends.
    stream.once('error', (error) => resolve(failure ?? error));
    stream.once('close', () =>
      resolve(failure ?? (stream.readableEnded ? undefined : new Error('the client went away mid-message'))),
    );
  });
}

export function createSessionHandlers(o: SessionHandlerOptions, listenerName: string) {
  const sessions = new Map<string, SessionState>();
  const now = o.now ?? Date.now;
  const role = o.role;

  const refuse = (
    stage: string,
    reply: SmtpReply,
    session: SMTPServerSession,
    detail?: Record<string, unknown>,
  ) => {
    o.metrics.replies.inc({ role, stage, code: String(reply.code) });
    o.logger.info(
      {
        session: session.id,
        client: session.remoteAddress,
        stage,
        reply: `${reply.code} ${reply.status}`,
        ...detail,
      },
      'refused',
    );
    return replyError(reply);
  };
  const accepted = (stage: string, code = 250) => o.metrics.replies.inc({ role, stage, code: String(code) });
  const userOf = (session: SMTPServerSession): SessionUser | undefined =>
    (session.user as SessionUser | undefined) || undefined;

  return {
    onConnect: (session: SMTPServerSession, callback: (error?: Error | null) => void): void => {
      const client = session.remoteAddress;
      const count = o.connections.count(client);
      sessions.set(session.id, { client, listener: listenerName, proxyProven: false });
      o.metrics.connections.inc({ role, listener: listenerName });
      const refusal = connectionRefusal({
        role,
        remoteAddress: client,
        acceptFrom: o.acceptFrom,
        draining: o.isDraining(),
        connectionsFromClient: count,
        maxConnectionsPerClient: o.maxConnectionsPerClient,
      });
      if (refusal) return callback(refuse('connect', refusal, session));
      // XCLIENT stays hidden until the proxy has proven itself (onAuth below), and AUTH until the
      // session is encrypted: no password crosses the network in clear (RFC 8314 section 3, like
      // Postfix's smtpd_tls_auth_only).
      if (o.submission) {
        session.disabledCommands = [...(o.xclient ? ['XCLIENT'] : []), ...(session.secure ? [] : ['AUTH'])];
      }
      callback();
    },

    onSecure: (
      _socket: unknown,
      session: SMTPServerSession,
      callback: (error?: Error | null) => void,
    ): void => {
      if (o.submission)
        session.disabledCommands = (session.disabledCommands ?? []).filter((c) => c !== 'AUTH');
      callback();
    },

    onClose: (session: SMTPServerSession): void => {
      const state = sessions.get(session.id);
      if (!state) return;
      sessions.delete(session.id);
      o.metrics.connections.dec({ role, listener: state.listener });
    },

    onAuth: (
      auth: SMTPServerAuthentication,
      session: SMTPServerSession,
      callback: (error: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void,
    ): void => {
      const state = sessions.get(session.id);
      const fail = (reply: SmtpReply) => callback(refuse('auth', reply, session, { method: auth.method }));
      if (auth.method === 'XCLIENT') {
        // LOGIN=user from the proxy: the proxy has checked the user's password itself.
        if (!state?.proxyProven || !o.directory) return fail(REPLIES.xclientUnknownUser);
        o.directory.findLogin(auth.username ?? '').then(
          (entry) => {
            if (!entry) return fail(REPLIES.xclientUnknownUser);
            accepted('auth', 235);
            callback(null, { user: userFromEntry(entry) });
          },
          () => fail(REPLIES.authUnavailable),
        );
        return;
      }
      if (auth.method !== 'PLAIN' && auth.method !== 'LOGIN') return fail(REPLIES.authFailed);
      const password = auth.password ?? '';
      // RFC 4616: acting as someone else (authzid) is not something we grant.
      if (auth.authzid && auth.authcid && auth.authzid !== auth.authcid) return fail(REPLIES.authFailed);
      const login = auth.username ?? '';
      if (isXclientProxyLogin(login)) {
        const proof = checkXclientProof(
          { login, password, authzid: auth.authzid, client: state?.client ?? '', secure: !!session.secure },
          o.xclient,
        );
        const proven = proof.ok;
        if (!proven || !state) return fail(REPLIES.proxyNotTrusted);
        state.proxyProven = true;
        session.disabledCommands = [];
        o.logger.info({ session: session.id, client: state.client }, 'XCLIENT proxy proven');
        accepted('auth', 235);
        return callback(null, { user: { kind: 'proxy' } satisfies SessionUser });
      }
      if (!o.directory) return fail(REPLIES.authFailed);
      o.directory.authenticate(login, password).then(
        (entry) => {
          if (!entry) return fail(REPLIES.authFailed);
          accepted('auth', 235);
          o.logger.info(
            { session: session.id, client: session.remoteAddress, user: entry.uid ?? entry.mail },
            'authenticated',
          );
          callback(null, { user: userFromEntry(entry) });
        },
        (error: unknown) => {
          o.logger.warn({ session: session.id, err: describeError(error) }, 'directory unavailable for AUTH');
          fail(REPLIES.authUnavailable);
        },
      );
    },

    onMailFrom: (
      address: SMTPServerAddress,
      session: SMTPServerSession,
      callback: (error?: Error | null) => void,
    ): void => {
      if (o.isDraining()) return callback(refuse('mail', REPLIES.shuttingDown, session));
      const verdict = senderVerdict({
        role,
        sender: address.address,
        smtpUtf8: session.envelope.smtpUtf8 ?? false,
        user: userOf(session),
      });
      if (!verdict.ok) return callback(refuse('mail', verdict.reply, session, { sender: address.address }));
      const state = sessions.get(session.id);
      if (o.rateLimiter && !o.rateLimiter.take(state?.client ?? session.remoteAddress)) {
        return callback(refuse('mail', REPLIES.rateLimited, session));
      }
      accepted('mail');
      callback();
    },

    onRcptTo: (
      address: SMTPServerAddress,
      session: SMTPServerSession,
      callback: (error?: Error | null) => void,
    ): void => {
      const verdict = recipientVerdict({
        table: o.router.table,
        recipient: address.address,
        smtpUtf8: session.envelope.smtpUtf8 ?? false,
        user: userOf(session),
      });
      if (!verdict.ok) return callback(refuse('rcpt', verdict.reply, session, { rcpt: address.address }));
      o.router.routeOne(verdict.value).then(
        (route) => {
          if (route.kind === 'refuse' || route.kind === 'defer') {
            return callback(refuse('rcpt', route.reply, session, { rcpt: address.address, why: route.why }));
          }
          if (!o.verifier) {
            accepted('rcpt');
            return callback();
          }
          return o.verifier.verify(verdict.value.address).then((verification) => {
            if (verification.kind === 'refused') {
              const status = /^([45]\.\d{1,3}\.\d{1,3}) (.*)$/.exec(verification.reply.text);
              const reply = status
                ? { code: verification.reply.code, status: status[1]!, text: status[2]! }
                : { code: verification.reply.code, status: '5.1.1', text: verification.reply.text };
              return callback(
                refuse('rcpt', reply, session, { rcpt: address.address, why: 'refused by the inbound tier' }),
              );
            }
            if (verification.kind === 'unknown') {
              // Queue it anyway: holding mail while the inbound tier is away is the edge's job.
              o.logger.warn(
                { session: session.id, rcpt: address.address, reason: verification.reason },
                'recipient not verified',
              );
            }
            accepted('rcpt');
            callback();
          });
        },
        (error: unknown) => {
          o.logger.error({ session: session.id, err: describeError(error) }, 'routing failed');
          callback(refuse('rcpt', REPLIES.directoryUnavailable, session));
        },
      );
    },

    onData: (
      stream: SMTPServerDataStream,
      session: SMTPServerSession,
      callback: (error?: Error | null, message?: string) => void,
    ): void => {
      const arrivedAt = now();
      const id = newQueueId(arrivedAt);
      const log = o.logger.child({ queueId: id, session: session.id });
      const recipients = session.envelope.rcptTo.map((r) => {
        const parsed = parseMailbox(r.address, { smtpUtf8: session.envelope.smtpUtf8 ?? false });
        return parsed.ok ? parsed.value.address : r.address;
      });
      const mailFrom = session.envelope.mailFrom;
      const senderText = mailFrom ? mailFrom.address : '';
      const sender =
        senderText === ''
          ? ''
          : (() => {
              const parsed = parseMailbox(senderText, { smtpUtf8: session.envelope.smtpUtf8 ?? false });
              return parsed.ok ? parsed.value.address : senderText;
            })();
      const user = userOf(session);
      const envelope: Envelope = {
        id,
        sender,
        recipients,
        arrivedAt,
        bodyType: session.envelope.bodyType === '8bitmime' ? '8bitmime' : '7bit',
        smtpUtf8: session.envelope.smtpUtf8 ?? false,
        client: {
          address: session.remoteAddress,
          helo: session.hostNameAppearsAs || '',
          ...(user?.kind === 'user' ? { user: user.login } : {}),
        },
      };
      const guard = new SmugglingGuard();
      void (async () => {
        let writer: Awaited<ReturnType<Spool['create']>> | undefined;
        try {
          writer = await o.spool.create(envelope);
        } catch (error) {
          log.error({ err: describeError(error) }, 'cannot create spool file');
        }
        const w = writer;
        const trace = receivedHeader({
          helo: session.hostNameAppearsAs || session.remoteAddress,
          clientAddress: session.remoteAddress,
          // Known only from XCLIENT NAME (reverse lookups are off); smtp-server writes "[address]" otherwise.
          ...(session.clientHostname && !session.clientHostname.startsWith('[')
            ? { clientHostname: session.clientHostname }
            : {}),
          by: o.hostname,
          protocol: session.transmissionType || 'ESMTP',
          queueId: id,
          ...(session.tlsOptions
            ? { tls: { version: session.tlsOptions.version, cipher: session.tlsOptions.name } }
            : {}),
          recipients,
          date: new Date(arrivedAt),
        });
        const failure = await consume(stream, async (chunk) => {
          if (!w) return;
          if (w.size === 0) await w.write(Buffer.from(trace, 'latin1'));
          await w.write(guard.push(chunk));
        });
        if (!w) return callback(refuse('data', REPLIES.queueFailure, session));
        try {
          if (failure !== undefined)
            throw failure instanceof Error ? failure : new Error('the message could not be read');
          if (stream.sizeExceeded) {
            await w.abort();
            return callback(refuse('data', REPLIES.messageTooBig, session));
          }
          if (w.size === 0) await w.write(Buffer.from(trace, 'latin1'));
          await w.write(guard.end());
          if (guard.smuggling) {
            await w.abort();
            o.metrics.smugglingRefused.inc({ role });
            return callback(refuse('data', REPLIES.smuggling, session));
          }
          if (guard.bareLineEndings > 0) o.metrics.bareLineEndings.inc({ role }, guard.bareLineEndings);
          // The message is on disk and synced before the 250 goes out.
          const stored = await w.commit();
          o.metrics.messagesReceived.inc({ role });
          accepted('data');
          log.info(
            {
              from: sender,
              rcpts: recipients.length,
              size: stored.size,
              client: session.remoteAddress,
              user: envelope.client.user,
            },
            'queued',
          );
          callback(null, `Ok: queued as ${id}`);
          o.onQueued(stored);
        } catch (error) {
          await w.abort().catch(() => undefined);
          log.error(
            { err: describeError(error), code: isMtopoError(error) ? error.code : undefined },
            'cannot queue message',
          );
          callback(refuse('data', REPLIES.queueFailure, session));
        }
      })();
    },
  };
}

function userFromEntry(entry: {
  uid: string | undefined;
  mail: string | undefined;
  aliases: string[];
}): SessionUser {
  return { kind: 'user', login: entry.uid ?? entry.mail ?? '', addresses: ownedAddresses(entry) };
}
