// The one way in (docs/design.md, "Stores need no directory"): the MMP, having checked the user's
// own password against the directory, logs in as its proxy identity (authcid) with the shared
// secret, naming the user as authzid. The secret is compared in constant time by the LoginCheck.
import { capabilityLine } from '../capabilities.ts';
import { no, ok, type CommandResult } from '../command.ts';
import type { ImapSession } from '../session.ts';

export async function proxyLogin(
  session: ImapSession,
  authzid: string,
  authcid: string,
  password: string,
): Promise<CommandResult> {
  const proof = session.options.login({ authzid, authcid, password });
  const user = proof.ok ? proof.user.trim().toLowerCase() : '';
  if (!proof.ok || user === '') {
    const reason = proof.ok ? 'empty user' : proof.reason;
    session.options.log?.warn({ authcid, reason, client: session.clientAddress }, 'IMAP login refused');
    return no('Authentication failed', 'AUTHENTICATIONFAILED');
  }
  // The proxy is proven: the address it named before logging in is the client's.
  if (session.claimedClientAddress !== undefined) session.clientAddress = session.claimedClientAddress;
  session.claimedClientAddress = undefined;
  session.handback = session.claimedHandback;
  session.claimedHandback = undefined;
  if (!session.claimUserSession(user)) {
    return no(`Too many sessions for ${user}`, 'LIMIT');
  }
  session.account = await session.options.store.openAccount(user);
  session.user = user;
  session.state = 'authenticated';
  session.options.log?.info({ user, client: session.clientAddress }, 'IMAP login');
  return ok('Logged in', `CAPABILITY ${capabilityLine(session)}`);
}
