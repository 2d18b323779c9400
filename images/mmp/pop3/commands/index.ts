// The POP3 commands the MMP answers before login.
import type { Pop3Command } from '../command.ts';
import { auth } from './auth.ts';
import { capa } from './capa.ts';
import { pass } from './pass.ts';
import { quit } from './quit.ts';
import { stls } from './stls.ts';
import { user } from './user.ts';

export const PRE_LOGIN_COMMANDS: ReadonlyMap<string, Pop3Command> = new Map(
  [capa, stls, user, pass, auth, quit].map((c) => [c.name, c]),
);
