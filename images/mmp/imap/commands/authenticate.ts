// AUTHENTICATE (RFC 9051 section 6.2.2) with PLAIN (RFC 4616), the initial response on the command
// line when the client sends one (SASL-IR, RFC 4959). An authzid naming someone else is refused:
// the MMP logs in as exactly the user whose password it checked (nginx logged in as the authcid).
import { decodePlain } from '../../sasl-plain.ts';
import { imapCommand, type ImapCommandContext } from '../command.ts';

function withResponse(context: ImapCommandContext, tag: string, response: string): void {
  if (response === '*') return context.send(`${tag} BAD AUTHENTICATE cancelled`);
  const decoded = decodePlain(response);
  if (!decoded.ok) return context.send(`${tag} BAD ${decoded.reason}`);
  const { authzid, authcid, password } = decoded.credentials;
  if (authzid !== '' && authzid !== authcid)
    return context.send(`${tag} NO [AUTHORIZATIONFAILED] Logging in as another user is not allowed`);
  context.login(tag, authcid, password);
}

export const authenticate = imapCommand<[string, string | undefined]>({
  name: 'AUTHENTICATE',
  states: ['not-authenticated'],
  grammar: ['atom', 'atom?'],
  handle(context, tag, [mechanism, initial]) {
    if (mechanism.toUpperCase() !== 'PLAIN')
      return context.send(`${tag} NO Unsupported authentication mechanism`);
    if (!context.secure && !context.plaintextLogin)
      return context.send(`${tag} NO [PRIVACYREQUIRED] Use STARTTLS or port 993 first`);
    if (initial !== undefined) return withResponse(context, tag, initial);
    context.send('+ ');
    context.expectLine((line) => withResponse(context, tag, line.toString('latin1')));
  },
});
