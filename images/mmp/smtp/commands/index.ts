// The SMTP commands the MMP answers before AUTH, by verb.
import type { SmtpCommand } from '../command.ts';
import { auth } from './auth.ts';
import { ehlo } from './ehlo.ts';
import { quit, rset } from './session-commands.ts';
import { starttls } from './starttls.ts';
import { transaction } from './transaction.ts';

export const PRE_AUTH_COMMANDS: ReadonlyMap<string, SmtpCommand> = new Map(
  [ehlo, starttls, auth, transaction, rset, quit].flatMap((c) => c.names.map((name) => [name, c] as const)),
);
