// STARTTLS (RFC 9051 section 6.2.1). Whatever the client sent after the command, before the
// handshake, is discarded: it was not protected, and a man in the middle may have put it there
// (the command injection of CVE-2011-0411 and its IMAP cousins).
import { imapCommand } from '../command.ts';

export const starttls = imapCommand<[]>({
  name: 'STARTTLS',
  states: ['not-authenticated'],
  grammar: [],
  handle(context, tag) {
    if (context.secure) return context.send(`${tag} BAD TLS is already active`);
    if (!context.starttlsOffered) return context.send(`${tag} BAD STARTTLS is not offered here`);
    context.send(`${tag} OK Begin TLS negotiation now`);
    context.startTls();
  },
});
