// MAIL, RCPT, DATA and BDAT before AUTH. The MMP is never a relay and never an MX: without AUTH
// there is no transaction at all, for any recipient, local or not (RFC 4954 section 6: 530). With
// POP-before-SMTP on, a MAIL from an address that logged in by POP or IMAP within the window is
// handed to the MTA as that user (the shell decides; a 530 otherwise).
import type { SmtpCommand } from '../command.ts';

export const AUTHENTICATION_REQUIRED = '530 5.7.0 Authentication required';

export const transaction: SmtpCommand = {
  names: ['MAIL', 'RCPT', 'DATA', 'BDAT'],
  afterHelo: true,
  handle(context, verb) {
    if (verb === 'MAIL' && context.popBeforeSmtp) return context.loginByAddress();
    context.send(AUTHENTICATION_REQUIRED);
  },
};
