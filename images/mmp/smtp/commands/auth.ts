// AUTH (RFC 4954) with PLAIN (RFC 4616) and LOGIN (the draft every client still speaks), the initial
// response on the command line when sent. Only over TLS unless the site allows otherwise (RFC 8314
// section 3). An authzid naming someone else is refused: the MMP passes on exactly the user whose
// password it checked.
import { decodePlain } from '../../sasl-plain.ts';
import type { SmtpCommand, SmtpCommandContext } from '../command.ts';

const CANCELLED = '501 5.7.0 Authentication cancelled';
/** RFC 4954 section 4: "=" is an empty initial response. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function plain(context: SmtpCommandContext, response: string): void {
  if (response === '*') return context.send(CANCELLED);
  const decoded = decodePlain(response);
  if (!decoded.ok) return context.send(`501 5.5.2 ${decoded.reason}`);
  const { authzid, authcid, password } = decoded.credentials;
  if (authzid !== '' && authzid !== authcid)
    return context.send('535 5.7.8 Authenticating as another user is not allowed');
  context.login(authcid, password);
}

/** One base64 field of AUTH LOGIN, or undefined when it is not base64. */
function field(response: string): string | undefined {
  if (!BASE64.test(response) || response === '') return undefined;
  return Buffer.from(response, 'base64').toString('utf8');
}

function login(context: SmtpCommandContext, initial: string | undefined): void {
  const withUser = (response: string) => {
    if (response === '*') return context.send(CANCELLED);
    const user = field(response);
    if (user === undefined) return context.send('501 5.5.2 Invalid base64');
    context.send('334 UGFzc3dvcmQ6'); // "Password:"
    context.expectLine((answer) => {
      if (answer === '*') return context.send(CANCELLED);
      const password = field(answer);
      if (password === undefined || user === '' || password === '')
        return context.send('535 5.7.8 Authentication credentials invalid');
      context.login(user, password);
    });
  };
  if (initial !== undefined) return withUser(initial);
  context.send('334 VXNlcm5hbWU6'); // "Username:"
  context.expectLine(withUser);
}

export const auth: SmtpCommand = {
  names: ['AUTH'],
  afterHelo: true,
  handle(context, _verb, argument) {
    const [mechanism = '', initial, extra] = argument.split(' ');
    if (!context.secure && !context.plaintextLogin)
      return context.send('538 5.7.11 Encryption required: use STARTTLS or port 465 first');
    if (extra !== undefined || mechanism === '')
      return context.send('501 5.5.4 AUTH mechanism [initial-response]');
    switch (mechanism.toUpperCase()) {
      case 'PLAIN':
        if (initial !== undefined) return plain(context, initial);
        context.send('334 ');
        return context.expectLine((line) => plain(context, line));
      case 'LOGIN':
        return login(context, initial);
      default:
        return context.send('504 5.5.4 Unrecognized authentication type');
    }
  },
};
