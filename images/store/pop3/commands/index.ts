// Every POP3 command module, for the dispatcher's registry.
import type { Pop3Command } from '../command.ts';
import { auth } from './auth.ts';
import { capa } from './capa.ts';
import { dele } from './dele.ts';
import { list } from './list.ts';
import { noop } from './noop.ts';
import { pass } from './pass.ts';
import { quit } from './quit.ts';
import { retr } from './retr.ts';
import { rset } from './rset.ts';
import { stat } from './stat.ts';
import { stls } from './stls.ts';
import { top } from './top.ts';
import { uidl } from './uidl.ts';
import { user } from './user.ts';
import { xclient } from './xclient.ts';

export const COMMANDS: readonly Pop3Command[] = [
  auth,
  capa,
  dele,
  list,
  noop,
  pass,
  quit,
  retr,
  rset,
  stat,
  stls,
  top,
  uidl,
  user,
  xclient,
];
