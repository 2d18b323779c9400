// The commands the MMP answers before login; anything else is the store's business after it.
import type { ImapCommand } from '../command.ts';
import { authenticate } from './authenticate.ts';
import { capability } from './capability.ts';
import { id } from './id.ts';
import { login } from './login.ts';
import { logout } from './logout.ts';
import { noop } from './noop.ts';
import { starttls } from './starttls.ts';

export const PRE_LOGIN_COMMANDS: ReadonlyMap<string, ImapCommand> = new Map(
  [capability, noop, logout, id, starttls, login, authenticate].map((c) => [c.name, c]),
);
