// Every IMAP command module, for the dispatcher's registry.
import type { ImapCommand } from '../command.ts';
import { append } from './append.ts';
import { authenticate } from './authenticate.ts';
import { capability } from './capability.ts';
import { copy, move, uidCopy, uidMove } from './copy-move.ts';
import { enable } from './enable.ts';
import { expunge, uidExpunge } from './expunge.ts';
import { fetch, uidFetch } from './fetch.ts';
import { id } from './id.ts';
import { idle } from './idle.ts';
import { list, lsub } from './list.ts';
import { login } from './login.ts';
import { logout } from './logout.ts';
import { create, deleteMailbox, rename, subscribe, unsubscribe } from './mailbox-commands.ts';
import { namespace } from './namespace.ts';
import { compress } from './compress.ts';
import { check, noop } from './noop.ts';
import { getquota, getquotaroot, setquota } from './quota.ts';
import { search, uidSearch } from './search.ts';
import { close, examine, select, unselect } from './select.ts';
import { sort, thread, uidSort, uidThread } from './sort-thread.ts';
import { starttls } from './starttls.ts';
import { status } from './status.ts';
import { store, uidStore } from './store.ts';

export const COMMANDS: readonly ImapCommand[] = [
  capability,
  noop,
  logout,
  starttls,
  login,
  authenticate,
  id,
  enable,
  namespace,
  select,
  examine,
  create,
  deleteMailbox,
  rename,
  subscribe,
  unsubscribe,
  list,
  lsub,
  status,
  append,
  idle,
  getquota,
  getquotaroot,
  setquota,
  check,
  close,
  unselect,
  expunge,
  uidExpunge,
  search,
  uidSearch,
  fetch,
  uidFetch,
  store,
  uidStore,
  copy,
  uidCopy,
  move,
  uidMove,
  compress,
  sort,
  uidSort,
  thread,
  uidThread,
];
