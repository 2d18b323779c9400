// LOGIN (RFC 9051 section 6.2.3). Refused in clear unless the site allows it (LOGINDISABLED is
// advertised then, section 7.2.2). The credentials go to the shell, which checks them in the
// directory and logs in at the user's store.
import { imapCommand } from '../command.ts';

export const login = imapCommand<[string, string]>({
  name: 'LOGIN',
  states: ['not-authenticated'],
  grammar: ['astring', 'astring'],
  handle(context, tag, [user, password]) {
    if (!context.secure && !context.plaintextLogin)
      return context.send(`${tag} NO [PRIVACYREQUIRED] Use STARTTLS or port 993 first`);
    if (user === '' || password === '')
      return context.send(`${tag} NO [AUTHENTICATIONFAILED] Authentication failed`);
    context.login(tag, user, password);
  },
});
