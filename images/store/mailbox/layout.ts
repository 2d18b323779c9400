// Where an account's files live on the replica's volume (docs/store.md has the picture):
//
//   <dataDir>/tmp/                         messages being received, before any account has them
//   <dataDir>/accounts/<xx>/<user>/        one account; xx = first byte of sha256(user), in hex
//       index.sqlite (+ -wal, -shm)        the index: mailboxes, UIDs, flags, MODSEQs, tombstones
//       subscriptions.json                 a copy of the subscriptions, for a rebuild
//       mailboxes/<id>/mailbox.json        a mailbox's name, UIDVALIDITY and UIDNEXT floor, for a rebuild
//       mailboxes/<id>/<uid>               one message, the bytes exactly as received
//
// Pure: names to paths. The user name is already checked by accountDirName.
import { hash } from 'node:crypto';
import { join } from 'node:path';
import { StoreError } from './api.ts';

/**
 * The directory name for a user: the address itself where it is made of safe characters (so an
 * operator can find a mailbox with `ls`), every other byte %XX-encoded. Refuses what cannot be a mail
 * address the MTA would deliver (empty, too long, a leading dot).
 */
export function accountDirName(user: string): string {
  if (user.length === 0 || user.length > 254)
    throw new StoreError('CANNOT', 'a user name is 1 to 254 characters');
  if (user !== user.toLowerCase()) throw new StoreError('CANNOT', 'user names are lower case');
  let out = '';
  for (const byte of Buffer.from(user, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[a-z0-9@._+-]/.test(ch) ? ch : `%${byte.toString(16).padStart(2, '0')}`;
  }
  if (out.startsWith('.')) out = `%2e${out.slice(1)}`;
  return out;
}

export function accountShard(user: string): string {
  return hash('sha256', user, 'hex').slice(0, 2);
}

export interface AccountPaths {
  readonly root: string;
  readonly index: string;
  readonly subscriptions: string;
  readonly mailboxes: string;
  mailboxDir(id: number): string;
  mailboxMeta(id: number): string;
  messageFile(mailboxId: number, uid: number): string;
}

export function accountPaths(dataDir: string, user: string): AccountPaths {
  const root = join(dataDir, 'accounts', accountShard(user), accountDirName(user));
  const mailboxes = join(root, 'mailboxes');
  return {
    root,
    index: join(root, 'index.sqlite'),
    subscriptions: join(root, 'subscriptions.json'),
    mailboxes,
    mailboxDir: (id) => join(mailboxes, String(id)),
    mailboxMeta: (id) => join(mailboxes, String(id), 'mailbox.json'),
    // Concatenated, not join()ed: built for every message read (the small-message cache's key), and
    // two integers below a normalized path need no normalizing.
    messageFile: (id, uid) => `${mailboxes}/${id}/${uid}`,
  };
}

export function storeTmpDir(dataDir: string): string {
  return join(dataDir, 'tmp');
}

/** Message files are named by their UID alone; anything else in a mailbox directory is not a message. */
export function uidOfFileName(name: string): number | undefined {
  if (!/^[1-9][0-9]{0,9}$/.test(name)) return undefined;
  const uid = Number(name);
  return uid <= 0xffffffff ? uid : undefined;
}
