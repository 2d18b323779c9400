// smtp-server's hooks for one listener, wired to the MTA's policy, routing, the directory and the
// spool. Each hook is a module of its own under hooks/ and asks the pure core; nothing here decides
// policy of its own.
//
//   onConnect  network allowed for this listener? too many connections from this client? draining?
//   onAuth     PLAIN/LOGIN by a directory bind, the XCLIENT proxy's proof, penalties for guessing
//   onMailFrom rate limit, room in the queue, the sender rules
//   onRcptTo   the recipient decision (relay rules, routing, call-ahead), harvesting penalties
//   onData     Received: header, smuggling guard, size limit, spool with fsync, and only then 250
import { authHook } from './hooks/auth.ts';
import { connectHooks } from './hooks/connect.ts';
import { dataHook } from './hooks/data.ts';
import { mailFromHook } from './hooks/mail-from.ts';
import { rcptToHook } from './hooks/rcpt-to.ts';
import { SessionContext, type ListenerDeps, type ReceivingDeps } from './session-context.ts';

export type { ListenerDeps, ReceivingDeps } from './session-context.ts';

export function createSessionHandlers(deps: ReceivingDeps, listener: ListenerDeps) {
  const context = new SessionContext(deps, listener);
  return {
    ...connectHooks(context),
    onAuth: authHook(context),
    onMailFrom: mailFromHook(context),
    onRcptTo: rcptToHook(context),
    onData: dataHook(context),
  };
}
