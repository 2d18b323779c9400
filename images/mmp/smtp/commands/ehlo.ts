// EHLO and HELO (RFC 5321 section 4.1.1.1). The name is kept: the MMP greets the MTA with it after
// XCLIENT, so the MTA's Received: header shows what the client said. A name that is not one token
// of printable characters is refused here rather than passed on.
import type { SmtpCommand } from '../command.ts';

const NAME = /^[!-~]{1,255}$/;

export const ehlo: SmtpCommand = {
  names: ['EHLO', 'HELO'],
  afterHelo: false,
  handle(context, verb, name) {
    if (!NAME.test(name)) return context.send('501 5.5.4 Give your domain name or address literal');
    context.helo = name;
    if (verb === 'HELO') return context.send(`250 ${context.hostname}`);
    const lines = [context.hostname, ...context.extensions()];
    context.send(lines.map((line, i) => `250${i === lines.length - 1 ? ' ' : '-'}${line}`).join('\r\n'));
  },
};
