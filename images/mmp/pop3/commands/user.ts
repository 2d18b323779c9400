// USER (RFC 1939 section 7). Refused in clear unless the site allows it; the [AUTH] code is RFC 3206's.
import { pop3Command } from '../command.ts';

export const user = pop3Command<[string]>({
  name: 'USER',
  states: ['authorization'],
  grammar: ['word'],
  handle(context, [name]) {
    if (!context.secure && !context.plaintextLogin)
      return context.send('-ERR [AUTH] Use STLS or port 995 first');
    context.user = name;
    context.send('+OK');
  },
});
