// AUTH (RFC 5034) with PLAIN (RFC 4616), the initial response on the command line when sent. An
// authzid naming someone else is refused, as for IMAP. AUTH alone lists the mechanisms (what many
// clients send before RFC 2449's CAPA existed).
import { decodePlain } from '../../sasl-plain.ts';
import { pop3Command, type Pop3CommandContext } from '../command.ts';

function withResponse(context: Pop3CommandContext, response: string): void {
  if (response === '*') return context.send('-ERR AUTH cancelled');
  const decoded = decodePlain(response);
  if (!decoded.ok) return context.send(`-ERR ${decoded.reason}`);
  const { authzid, authcid, password } = decoded.credentials;
  if (authzid !== '' && authzid !== authcid)
    return context.send('-ERR [AUTH] Logging in as another user is not allowed');
  context.login(authcid, password);
}

export const auth = pop3Command<[string | undefined, string | undefined]>({
  name: 'AUTH',
  states: ['authorization'],
  grammar: ['word?', 'word?'],
  handle(context, [mechanism, initial]) {
    const allowed = context.secure || context.plaintextLogin;
    if (mechanism === undefined)
      return context.send(['+OK', ...(allowed ? ['PLAIN'] : []), '.'].join('\r\n'));
    if (mechanism.toUpperCase() !== 'PLAIN') return context.send('-ERR Unsupported authentication mechanism');
    if (!allowed) return context.send('-ERR [AUTH] Use STLS or port 995 first');
    if (initial !== undefined) return withResponse(context, initial);
    context.send('+ ');
    context.expectLine((line) => withResponse(context, line));
  },
});
