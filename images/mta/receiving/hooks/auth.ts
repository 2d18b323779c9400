// onAuth: PLAIN and LOGIN checked by a directory bind (smtp-server offers them only over TLS); the
// XCLIENT proxy's proof (images/lib/auth/proofs.ts); XCLIENT LOGIN from a proven proxy. Failed
// logins cost the client address and the account (images/lib/auth/penalty-box.ts): free at first,
// then each answer waits longer, then AUTH is refused for a while (454) without the password being
// checked, with a log line and the metric mtopo_mta_auth_lockouts_total.
import type {
  SMTPServerAuthentication,
  SMTPServerAuthenticationResponse,
  SMTPServerSession,
} from 'smtp-server';
import { sleep, type Penalty } from '../../../lib/auth/penalty-box.ts';
import { checkXclientProof, isXclientProxyLogin } from '../../../lib/auth/proofs.ts';
import { describeError } from '../../../lib/errors.ts';
import { ownedAddresses, type SessionUser } from '../../core/policy.ts';
import { REPLIES, type SmtpReply } from '../../core/replies.ts';
import type { SessionContext } from '../session-context.ts';

type Done = (error: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void;

export function userFromEntry(entry: {
  uid: string | undefined;
  mail: string | undefined;
  aliases: string[];
}): SessionUser {
  return { kind: 'user', login: entry.uid ?? entry.mail ?? '', addresses: ownedAddresses(entry) };
}

const worst = (a: Penalty, b: Penalty): Penalty => {
  if (a.kind === 'locked') return a;
  if (b.kind === 'locked') return b;
  return a.delayMs >= b.delayMs ? a : b;
};

export function authHook(context: SessionContext) {
  const { deps } = context;
  const box = deps.authPenalties;

  /** Counts a failure against both keys; logs and counts a lockout when one begins. */
  const failed = (keys: string[], session: SMTPServerSession, login: string) => {
    for (const key of keys) {
      const after = box.fail(key);
      if (after.kind === 'locked') {
        deps.metrics.authLockouts.inc({ role: deps.role, key: key.slice(0, key.indexOf(':')) });
        deps.logger.warn(
          {
            session: session.id,
            client: session.remoteAddress,
            login,
            key,
            code: 'ELOCKED',
            until: new Date(after.until).toISOString(),
          },
          'too many failed logins: locked out',
        );
      }
    }
  };

  return function onAuth(auth: SMTPServerAuthentication, session: SMTPServerSession, callback: Done): void {
    const state = context.state(session);
    const fail = (reply: SmtpReply) =>
      callback(context.refuse('auth', reply, session, { method: auth.method }));
    const directory = deps.directory;
    if (auth.method === 'XCLIENT') {
      // LOGIN=user from the proxy: the proxy has checked the user's password itself.
      if (!state.proxyProven || !directory) return fail(REPLIES.xclientUnknownUser);
      directory.findLogin(auth.username ?? '').then(
        (entry) => {
          if (!entry) return fail(REPLIES.xclientUnknownUser);
          context.accepted('auth', 235);
          callback(null, { user: userFromEntry(entry) });
        },
        () => fail(REPLIES.authUnavailable),
      );
      return;
    }
    if (auth.method !== 'PLAIN' && auth.method !== 'LOGIN') return fail(REPLIES.authFailed);
    const password = auth.password ?? '';
    const login = auth.username ?? '';
    const keys = [`client:${state.client}`, `account:${login.toLowerCase()}`];
    const penalty = worst(box.check(keys[0]!), box.check(keys[1]!));
    if (penalty.kind === 'locked') return fail(REPLIES.authLockedOut);

    void sleep(penalty.delayMs).then(() => {
      if (isXclientProxyLogin(login)) {
        const proof = checkXclientProof(
          { login, password, authzid: auth.authzid, client: state.client, secure: !!session.secure },
          deps.xclient,
        );
        if (!proof.ok) {
          failed(keys, session, login);
          return callback(
            context.refuse('auth', REPLIES.proxyNotTrusted, session, {
              method: auth.method,
              why: proof.reason,
            }),
          );
        }
        state.proxyProven = true;
        session.disabledCommands = [];
        deps.logger.info({ session: session.id, client: state.client }, 'XCLIENT proxy proven');
        context.accepted('auth', 235);
        return callback(null, { user: { kind: 'proxy' } satisfies SessionUser });
      }
      // RFC 4616: acting as someone else (authzid) is not something we grant.
      if (auth.authzid && auth.authcid && auth.authzid !== auth.authcid) {
        failed(keys, session, login);
        return fail(REPLIES.authFailed);
      }
      if (!directory) return fail(REPLIES.authFailed);
      directory.authenticate(login, password).then(
        (entry) => {
          if (!entry) {
            failed(keys, session, login);
            return fail(REPLIES.authFailed);
          }
          for (const key of keys) box.succeed(key);
          context.accepted('auth', 235);
          deps.logger.info(
            { session: session.id, client: session.remoteAddress, user: entry.uid ?? entry.mail },
            'authenticated',
          );
          callback(null, { user: userFromEntry(entry) });
        },
        (error: unknown) => {
          deps.logger.warn(
            { session: session.id, err: describeError(error) },
            'directory unavailable for AUTH',
          );
          fail(REPLIES.authUnavailable);
        },
      );
    });
  };
}
