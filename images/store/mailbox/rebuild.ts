// A lost or unreadable index, rebuilt from the message files. What the files hold comes back
// exactly: every message, its UID (the file name), its mailbox and that mailbox's UIDVALIDITY
// (mailbox.json), so clients keep their caches; INTERNALDATE is the file's mtime, RFC822.SIZE its
// size. What only the index held is lost and said so in docs/store.md: flags and keywords, the
// per-message cache, tombstones (so QRESYNC clients get a full resync: every MODSEQ jumps above
// anything they saw). The broken index is kept beside the new one for a post-mortem.
import { readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MAILBOX_DELIMITER, SPECIAL_USES, type SpecialUse } from './api.ts';
import { modseqAfterRebuild, nextUidValidity, uidNextAfterRebuild } from './decisions.ts';
import { IndexDb } from './index-db.ts';
import { uidOfFileName, type AccountPaths } from './layout.ts';
import { syncDirectory } from './message-files.ts';
import { normaliseMailboxName, superiorsOf } from './names.ts';

export interface ScannedMailbox {
  readonly id: number;
  /** mailbox.json, if it could be read. */
  readonly meta:
    { name: string; uidValidity: number; uidNextFloor: number; specialUse: string | null } | undefined;
  readonly files: readonly { uid: number; size: number; mtimeMs: number }[];
}

export interface PlannedMailbox {
  id: number;
  name: string;
  selectable: boolean;
  specialUse: SpecialUse | null;
  uidValidity: number;
  uidNext: number;
  messages: { uid: number; size: number; internalDate: number }[];
}

export interface RebuildPlan {
  mailboxes: PlannedMailbox[];
  subscriptions: string[];
  modseq: number;
  lastUidValidity: number;
  /** Mailboxes whose UIDVALIDITY had to change (no readable mailbox.json). */
  newUidValidity: number;
}

function validName(name: unknown): string | undefined {
  if (typeof name !== 'string') return undefined;
  try {
    return normaliseMailboxName(name);
  } catch {
    return undefined;
  }
}

/** Pure: what the new index holds, given what the directories hold. */
export function planRebuild(
  scanned: readonly ScannedMailbox[],
  subscriptions: readonly string[] | undefined,
  nowMs: number,
): RebuildPlan {
  const modseq = modseqAfterRebuild(0, nowMs);
  let lastUidValidity = 0;
  for (const s of scanned)
    if (s.meta && s.meta.uidValidity > lastUidValidity) lastUidValidity = s.meta.uidValidity;
  const taken = new Set<string>();
  const mailboxes: PlannedMailbox[] = [];
  let newUidValidity = 0;
  let nextId = Math.max(0, ...scanned.map((s) => s.id)) + 1;
  const fresh = (counted = true) => {
    lastUidValidity = nextUidValidity(lastUidValidity, nowMs);
    if (counted) newUidValidity++;
    return lastUidValidity;
  };
  for (const s of [...scanned].sort((a, b) => a.id - b.id)) {
    let name = validName(s.meta?.name);
    const kept = name !== undefined && Number.isInteger(s.meta?.uidValidity) && s.meta!.uidValidity > 0;
    if (name === undefined || taken.has(name)) name = `Recovered${MAILBOX_DELIMITER}${s.id}`;
    taken.add(name);
    const uids = s.files.map((f) => f.uid);
    const specialUse = (SPECIAL_USES as readonly string[]).includes(s.meta?.specialUse ?? '')
      ? (s.meta!.specialUse as SpecialUse)
      : null;
    mailboxes.push({
      id: s.id,
      name,
      selectable: true,
      specialUse,
      uidValidity: kept ? s.meta!.uidValidity : fresh(),
      uidNext: uidNextAfterRebuild(uids, kept ? s.meta!.uidNextFloor : 1),
      messages: [...s.files]
        .sort((a, b) => a.uid - b.uid)
        .map((f) => ({ uid: f.uid, size: f.size, internalDate: Math.floor(f.mtimeMs) })),
    });
  }
  if (!taken.has('INBOX')) {
    taken.add('INBOX');
    mailboxes.push({
      id: nextId++,
      name: 'INBOX',
      selectable: true,
      specialUse: null,
      uidValidity: fresh(false),
      uidNext: 1,
      messages: [],
    });
  }
  for (const name of [...taken]) {
    for (const superior of superiorsOf(name)) {
      if (taken.has(superior)) continue;
      taken.add(superior);
      mailboxes.push({
        id: nextId++,
        name: superior,
        selectable: false,
        specialUse: null,
        uidValidity: fresh(false),
        uidNext: 1,
        messages: [],
      });
    }
  }
  return {
    mailboxes,
    subscriptions: subscriptions
      ? [...subscriptions]
      : mailboxes.filter((m) => m.selectable).map((m) => m.name),
    modseq,
    lastUidValidity,
    newUidValidity,
  };
}

export interface RebuildReport {
  readonly reason: string;
  readonly mailboxes: number;
  readonly messages: number;
  readonly newUidValidity: number;
}

async function scan(paths: AccountPaths): Promise<ScannedMailbox[]> {
  const out: ScannedMailbox[] = [];
  for (const entry of await readdir(paths.mailboxes)) {
    const id = Number(entry);
    if (!/^[1-9][0-9]*$/.test(entry)) continue;
    const dir = join(paths.mailboxes, entry);
    let meta: ScannedMailbox['meta'];
    try {
      const parsed = JSON.parse(await readFile(join(dir, 'mailbox.json'), 'utf8')) as Record<string, unknown>;
      meta = {
        name: String(parsed.name),
        uidValidity: Number(parsed.uidValidity),
        uidNextFloor: Number(parsed.uidNextFloor) || 1,
        specialUse: typeof parsed.specialUse === 'string' ? parsed.specialUse : null,
      };
    } catch {
      meta = undefined;
    }
    const files: { uid: number; size: number; mtimeMs: number }[] = [];
    for (const name of await readdir(dir)) {
      const uid = uidOfFileName(name);
      if (uid === undefined) continue;
      const info = await stat(join(dir, name));
      if (info.isFile()) files.push({ uid, size: info.size, mtimeMs: info.mtimeMs });
    }
    out.push({ id, meta, files });
  }
  return out;
}

export async function rebuildIndex(
  paths: AccountPaths,
  reason: string,
  nowMs: number,
): Promise<RebuildReport> {
  // Keep the broken index for a post-mortem, and never let its WAL be replayed into the new one.
  for (const suffix of ['', '-wal', '-shm'])
    await rename(paths.index + suffix, `${paths.index}.broken${suffix}`).catch(() => undefined);
  let subscriptions: string[] | undefined;
  try {
    const parsed = JSON.parse(await readFile(paths.subscriptions, 'utf8')) as unknown;
    if (Array.isArray(parsed)) subscriptions = parsed.filter((n): n is string => typeof n === 'string');
  } catch {
    subscriptions = undefined;
  }
  const plan = planRebuild(await scan(paths), subscriptions, nowMs);
  const building = `${paths.index}.rebuild`;
  for (const suffix of ['', '-wal', '-shm']) await rm(building + suffix, { force: true });
  const db = IndexDb.open(building, true);
  try {
    db.transaction(() => {
      const mailbox = db.statement(
        'INSERT INTO mailboxes (id, name, selectable, special_use, uid_validity, uid_next, highest_modseq, messages, size, unseen, deleted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)',
      );
      const message = db.statement(
        'INSERT INTO messages (mailbox_id, uid, flags, keywords, modseq, internal_date, size) VALUES (?, ?, 0, NULL, ?, ?, ?)',
      );
      for (const m of plan.mailboxes) {
        const size = m.messages.reduce((sum, x) => sum + x.size, 0);
        mailbox.run(
          m.id,
          m.name,
          m.selectable ? 1 : 0,
          m.specialUse,
          m.uidValidity,
          m.uidNext,
          plan.modseq,
          m.messages.length,
          size,
          m.messages.length,
        );
        for (const x of m.messages) message.run(m.id, x.uid, plan.modseq, x.internalDate, x.size);
      }
      const sub = db.statement('INSERT OR IGNORE INTO subscriptions (name) VALUES (?)');
      for (const name of plan.subscriptions) sub.run(name);
      db.setMeta('last_uid_validity', plan.lastUidValidity);
    });
    await db.durable();
  } finally {
    await db.close();
  }
  await rename(building, paths.index);
  await syncDirectory(paths.root);
  return {
    reason,
    mailboxes: plan.mailboxes.length,
    messages: plan.mailboxes.reduce((sum, m) => sum + m.messages.length, 0),
    newUidValidity: plan.newUidValidity,
  };
}
