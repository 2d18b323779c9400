import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { buffer } from 'node:stream/consumers';
import { after, describe, it } from 'node:test';
import { makeTempDir } from '../../../testing/support/temp-dir.ts';
import { waitFor } from '../../../testing/support/wait.ts';
import { isStoreError, type Account, type MailboxView } from './api.ts';
import { UID_FLOOR_RESERVE } from './decisions.ts';
import { accountPaths } from './layout.ts';
import { MailStore, type MailStoreOptions } from './mail-store.ts';

const temp = makeTempDir('mailbox');
after(() => temp.remove());
let n = 0;

async function openStore(extra: Partial<MailStoreOptions> = {}, dataDir = join(temp.path, `s${++n}`)) {
  const rebuilds: string[] = [];
  const store = await MailStore.open({
    dataDir,
    quota: { storageBytes: undefined, messages: undefined },
    maxMessageBytes: 1024 * 1024,
    idleAccountKeepMs: 10,
    onRebuild: (user, report) => rebuilds.push(`${user}: ${report.reason}`),
    ...extra,
  });
  return { store, dataDir, rebuilds };
}

const message = (subject: string, body = 'hello') => Buffer.from(`Subject: ${subject}\r\n\r\n${body}\r\n`);
const alice = 'alice@siroe.example';

async function rejects(promise: Promise<unknown>, code: string) {
  await assert.rejects(promise, (e) => isStoreError(e) && e.code === code);
}

describe('MailStore', () => {
  it('creates an account with INBOX and the special-use mailboxes, subscribed', async () => {
    const { store } = await openStore();
    const account = await store.openAccount(alice);
    const list = await account.listMailboxes();
    assert.deepEqual(
      list.map((m) => `${m.name} ${m.attributes.join(' ')}`),
      [
        'Archive \\HasNoChildren \\Archive',
        'Drafts \\HasNoChildren \\Drafts',
        'INBOX \\HasNoChildren',
        'Junk \\HasNoChildren \\Junk',
        'Sent \\HasNoChildren \\Sent',
        'Trash \\HasNoChildren \\Trash',
      ],
    );
    assert.deepEqual(await account.listSubscriptions(), [
      'Archive',
      'Drafts',
      'INBOX',
      'Junk',
      'Sent',
      'Trash',
    ]);
    account.close();
    await store.close();
  });

  it('delivers one message to several recipients and reads it back byte for byte', async () => {
    const { store } = await openStore();
    const bytes = message('to two');
    const outcomes = await store.deliver({
      source: bytes,
      recipients: [alice, 'bob@siroe.example'],
      sender: 'x@y',
    });
    assert.deepEqual(
      outcomes.map((o) => [o.recipient, o.kind, o.kind === 'delivered' && o.uid]),
      [
        [alice, 'delivered', 1],
        ['bob@siroe.example', 'delivered', 1],
      ],
    );
    for (const user of [alice, 'bob@siroe.example']) {
      const account = await store.openAccount(user);
      const view = await account.openMailbox('inbox', { readOnly: true });
      assert.equal(view.snapshot.messages.length, 1);
      assert.equal(view.snapshot.messages[0]!.size, bytes.length);
      assert.deepEqual(await view.readMessageBuffer(1), bytes);
      assert.deepEqual(await buffer(await view.readMessage(1, { start: 9, end: 15 })), bytes.subarray(9, 15));
      account.close();
    }
    await store.close();
  });

  it('tells other sessions of new messages, flag changes and expunges, and not the session that made them', async () => {
    const { store } = await openStore();
    const a = await store.openAccount(alice);
    const b = await store.openAccount(alice);
    const va = await a.openMailbox('INBOX', { readOnly: false });
    const vb = await b.openMailbox('INBOX', { readOnly: false });
    let woken = 0;
    vb.onChanges(() => woken++);
    await store.deliver({ source: message('1'), recipients: [alice], sender: '' });
    await a.append('INBOX', [{ source: message('2'), flags: ['\\Seen'] }]);
    const exists = [...va.takeChanges().changes, ...vb.takeChanges().changes].filter(
      (c) => c.kind === 'exists',
    );
    assert.equal(exists.length, 4, 'both views hear of both messages');
    const recentInA = va.snapshot.messages.length; // 0: nothing yet at open
    assert.equal(recentInA, 0);
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(woken >= 1, 'the listener was called');

    const stored = await va.storeFlags({ uids: [1, 2], mode: 'add', flags: ['\\Deleted', 'Work'] });
    assert.deepEqual(
      stored.messages.map((m) => [m.uid, m.flags, m.changed]),
      [
        [1, ['\\Deleted', 'Work'], true],
        [2, ['\\Seen', '\\Deleted', 'Work'], true],
      ],
    );
    assert.deepEqual(va.takeChanges().changes, [], 'its own STORE is not queued back');
    const flagChanges = vb.takeChanges().changes;
    assert.deepEqual(
      flagChanges.map((c) => c.kind === 'flags' && [c.uid, c.modseq]),
      [
        [1, stored.messages[0]!.modseq],
        [2, stored.messages[0]!.modseq],
      ],
    );

    const expunged = await vb.expunge({ uids: [1], onlyDeleted: true });
    assert.deepEqual(expunged.uids, [1]);
    const { changes, highestModseq } = va.takeChanges();
    assert.deepEqual(changes, [{ kind: 'expunge', uids: [1], modseq: expunged.modseq }]);
    assert.equal(highestModseq, expunged.modseq);
    await rejects(va.readMessageBuffer(1), 'EXPUNGEISSUED');
    assert.deepEqual(await va.vanishedSince(stored.messages[0]!.modseq), [1]);
    assert.deepEqual(await va.vanishedSince(expunged.modseq), []);
    a.close();
    b.close();
    await store.close();
  });

  it('gives \\Recent to one read-write session only', async () => {
    const { store } = await openStore();
    await store.deliver({ source: message('r'), recipients: [alice], sender: '' });
    const a = await store.openAccount(alice);
    const first = await a.openMailbox('INBOX', { readOnly: false });
    const second = await a.openMailbox('INBOX', { readOnly: false });
    assert.equal(first.snapshot.messages[0]!.recent, true);
    assert.equal(second.snapshot.messages[0]!.recent, false);
    await store.deliver({ source: message('s'), recipients: [alice], sender: '' });
    const recents = [first, second].map((v) =>
      v.takeChanges().changes.flatMap((c) => (c.kind === 'exists' ? c.messages.map((m) => m.recent) : [])),
    );
    assert.deepEqual(recents, [[true], [false]]);
    a.close();
    await store.close();
  });

  it('applies UNCHANGEDSINCE per message and keeps MODSEQ when flags do not change', async () => {
    const { store } = await openStore();
    const a = await store.openAccount(alice);
    await a.append('INBOX', [{ source: message('1') }, { source: message('2') }]);
    const view = await a.openMailbox('INBOX', { readOnly: false });
    const [m1, m2] = view.snapshot.messages;
    await view.storeFlags({ uids: [m2!.uid], mode: 'add', flags: ['\\Flagged'] });
    const result = await view.storeFlags({
      uids: [m1!.uid, m2!.uid],
      mode: 'add',
      flags: ['\\Seen'],
      unchangedSince: m1!.modseq,
    });
    assert.deepEqual(result.modified, [m2!.uid]);
    assert.deepEqual(
      result.messages.map((m) => m.uid),
      [m1!.uid],
    );
    const again = await view.storeFlags({ uids: [m1!.uid], mode: 'add', flags: ['\\Seen'] });
    assert.equal(again.messages[0]!.changed, false);
    assert.equal(again.messages[0]!.modseq, result.messages[0]!.modseq);
    const status = await a.status('INBOX');
    assert.equal(status.unseen, 1);
    assert.equal(status.highestModseq, result.messages[0]!.modseq);
    a.close();
    await store.close();
  });

  it('copies and moves with UID mappings, atomically, and counts sizes and quota', async () => {
    const { store } = await openStore();
    const a = await store.openAccount(alice);
    const appended = await a.append('INBOX', [
      { source: message('1') },
      { source: message('2') },
      { source: message('3') },
    ]);
    assert.deepEqual(appended.uids, [1, 2, 3]);
    const view = await a.openMailbox('INBOX', { readOnly: false });
    const copied = await view.copy([3, 1, 99], 'Archive');
    assert.deepEqual(copied.mapping, [
      [1, 1],
      [3, 2],
    ]);
    const moved = await view.move([2], 'Archive');
    assert.deepEqual(moved.mapping, [[2, 3]]);
    assert.deepEqual(moved.expunged, [2]);
    const archive = await a.openMailbox('Archive', { readOnly: true });
    assert.deepEqual(await archive.readMessageBuffer(3), message('2'));
    assert.equal((await a.status('INBOX')).messages, 2);
    assert.equal((await a.status('Archive')).size, message('1').length * 3);
    const quota = await a.quota();
    assert.equal(quota.messages.usage, 5);
    await rejects(view.copy([1], 'Nope'), 'NONEXISTENT');
    await assert.rejects(view.move([1], 'Nope'), (e) => isStoreError(e) && e.tryCreate);
    await rejects(archive.storeFlags({ uids: [1], mode: 'add', flags: ['\\Seen'] }), 'NOPERM');
    a.close();
    await store.close();
  });

  it('refuses over quota: 452 for that recipient, OVERQUOTA for APPEND', async () => {
    const { store } = await openStore({ quota: { storageBytes: 40, messages: undefined } });
    const a = await store.openAccount(alice);
    await a.append('INBOX', [{ source: Buffer.alloc(30, 'a') }]);
    await rejects(a.append('INBOX', [{ source: Buffer.alloc(11, 'b') }]), 'OVERQUOTA');
    const outcomes = await store.deliver({
      source: Buffer.alloc(20, 'c'),
      recipients: [alice, 'bob@siroe.example'],
      sender: '',
    });
    assert.deepEqual(
      outcomes.map((o) => o.kind),
      ['overQuota', 'delivered'],
    );
    await rejects(a.append('INBOX', [{ source: Buffer.alloc(2 * 1024 * 1024) }]), 'TOOBIG');
    a.close();
    await store.close();
  });

  it('leaves nothing in tmp/ after a delivery, whatever became of it', async () => {
    const { store, dataDir } = await openStore({ quota: { storageBytes: 100, messages: undefined } });
    // An account that cannot open: a file where its directory would be.
    const carol = 'carol@siroe.example';
    const carolRoot = accountPaths(dataDir, carol).root;
    mkdirSync(dirname(carolRoot), { recursive: true });
    writeFileSync(carolRoot, 'not a directory');
    const cases: [string[], number, string[]][] = [
      [[alice], 10, ['delivered']],
      [[alice, 'bob@siroe.example'], 10, ['delivered', 'delivered']],
      [[alice], 95, ['overQuota']],
      [[carol], 10, ['failed']],
      [[alice, carol], 10, ['delivered', 'failed']],
      [[alice], 2 * 1024 * 1024, ['tooBig']],
    ];
    for (const [recipients, size, kinds] of cases) {
      const outcomes = await store.deliver({ source: Buffer.alloc(size, 'm'), recipients, sender: '' });
      assert.deepEqual(
        outcomes.map((o) => o.kind),
        kinds,
      );
      assert.deepEqual(readdirSync(join(dataDir, 'tmp')), [], `tmp/ after ${kinds.join(', ')}`);
    }
    await store.close();
  });

  it('makes a MULTIAPPEND visible all at once, or not at all when aborted', async () => {
    const { store } = await openStore();
    const a = await store.openAccount(alice);
    const view = await a.openMailbox('INBOX', { readOnly: false });
    const batch = await a.beginAppend('INBOX');
    await batch.add({ source: message('1'), internalDate: Date.UTC(2020, 0, 1) });
    await batch.add({
      source: (async function* () {
        await Promise.resolve();
        yield Buffer.from('Subject: 2\r\n');
        yield Buffer.from('\r\nbody\r\n');
      })(),
    });
    assert.equal((await a.status('INBOX')).messages, 0);
    const result = await batch.commit();
    assert.deepEqual(result.uids, [1, 2]);
    const [change] = view.takeChanges().changes;
    assert.equal(change?.kind === 'exists' && change.messages[0]!.internalDate, Date.UTC(2020, 0, 1));
    const aborted = await a.beginAppend('INBOX');
    await aborted.add({ source: message('x') });
    await aborted.abort();
    assert.equal((await a.status('INBOX')).messages, 2);
    await rejects(a.beginAppend('Missing'), 'NONEXISTENT');
    a.close();
    await store.close();
  });

  it('creates, renames with inferiors, and deletes mailboxes as RFC 9051 says', async () => {
    const { store } = await openStore();
    const a = await store.openAccount(alice);
    await a.create('Work/2025/Q1');
    await rejects(a.create('work/2025/Q1'.replace('work', 'Work')), 'ALREADYEXISTS');
    await a.subscribe('Work/2025');
    await a.append('Work/2025', [{ source: message('w') }]);
    const before = await a.status('Work/2025');
    await a.rename('Work', 'Old/Work');
    const names = (await a.listMailboxes()).map((m) => m.name);
    assert.ok(names.includes('Old/Work/2025/Q1') && !names.includes('Work'));
    const after = await a.status('Old/Work/2025');
    assert.equal(after.uidValidity, before.uidValidity, 'RENAME keeps UIDVALIDITY');
    assert.equal(after.messages, 1);
    assert.ok((await a.listSubscriptions()).includes('Old/Work/2025'), 'subscriptions follow');
    await a.delete('Old/Work/2025');
    const placeholder = (await a.listMailboxes()).find((m) => m.name === 'Old/Work/2025')!;
    assert.deepEqual(placeholder.attributes, ['\\Noselect', '\\HasChildren']);
    await rejects(a.openMailbox('Old/Work/2025', { readOnly: true }), 'CANNOT');
    await rejects(a.delete('Old/Work/2025'), 'CANNOT');
    await a.delete('Old/Work/2025/Q1');
    assert.ok(
      !(await a.listMailboxes()).some((m) => m.name.startsWith('Old/Work/2025')),
      'empty placeholders go with it',
    );
    await rejects(a.delete('INBOX'), 'CANNOT');
    await rejects(a.rename('Sent', 'Drafts'), 'ALREADYEXISTS');
    a.close();
    await store.close();
  });

  it('RENAME INBOX moves its messages, keeps their UIDs and leaves an empty INBOX with a new UIDVALIDITY', async () => {
    const { store } = await openStore();
    const a = await store.openAccount(alice);
    await a.append('INBOX', [{ source: message('1') }]);
    const inbox = await a.status('INBOX');
    const view = await a.openMailbox('INBOX', { readOnly: false });
    await a.rename('INBOX', 'Saved');
    const saved = await a.status('Saved');
    assert.equal(saved.messages, 1);
    assert.equal(saved.uidValidity, inbox.uidValidity);
    const fresh = await a.status('INBOX');
    assert.equal(fresh.messages, 0);
    assert.notEqual(fresh.uidValidity, inbox.uidValidity);
    assert.deepEqual(view.takeChanges().changes, [{ kind: 'mailboxGone', renamedTo: 'Saved' }]);
    a.close();
    await store.close();
  });

  it('tells a session when its mailbox is deleted under it', async () => {
    const { store } = await openStore();
    const a = await store.openAccount(alice);
    await a.create('Gone');
    const view: MailboxView = await a.openMailbox('Gone', { readOnly: false });
    const other: Account = await store.openAccount(alice);
    await other.delete('Gone');
    assert.deepEqual(view.takeChanges().changes, [{ kind: 'mailboxGone', renamedTo: undefined }]);
    await rejects(view.expunge({ onlyDeleted: true }), 'NONEXISTENT');
    a.close();
    other.close();
    await store.close();
  });

  it('keeps UIDs, UIDVALIDITY and flags across a restart, and never reuses a UID', async () => {
    const first = await openStore();
    let a = await first.store.openAccount(alice);
    await a.append('INBOX', [
      { source: message('1'), flags: ['$Label1'] },
      { source: message('2') },
      { source: message('3') },
    ]);
    let view = await a.openMailbox('INBOX', { readOnly: false });
    await view.storeFlags({ uids: [3], mode: 'add', flags: ['\\Deleted'] });
    await view.expunge({ onlyDeleted: true });
    const status = await a.status('INBOX');
    a.close();
    await first.store.close();
    const second = await openStore({}, first.dataDir);
    a = await second.store.openAccount(alice);
    assert.deepEqual(await a.status('INBOX'), status);
    view = await a.openMailbox('INBOX', { readOnly: true });
    assert.deepEqual(view.snapshot.messages[0]!.flags, ['$Label1']);
    const next = await a.append('INBOX', [{ source: message('4') }]);
    assert.deepEqual(next.uids, [4]);
    a.close();
    await second.store.close();
  });

  it('writes mailbox.json once, not at every expunge of the newest message (append, expunge, again)', async () => {
    const { store, dataDir } = await openStore();
    const a = await store.openAccount(alice);
    const view = await a.openMailbox('INBOX', { readOnly: false });
    const paths = accountPaths(dataDir, alice);
    const inboxMeta = () =>
      readdirSync(paths.mailboxes)
        .map((id) => paths.mailboxMeta(Number(id)))
        .find(
          (file) =>
            existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { name: string }).name === 'INBOX',
        )!;
    const inodes = new Set<number>();
    for (let i = 0; i < 5; i++) {
      const [added] = (await a.append('INBOX', [{ source: message(`draft ${i}`) }])).uids;
      await view.expunge({ uids: [added!], onlyDeleted: false });
      inodes.add(statSync(inboxMeta()).ino); // written atomically: a new file, a new inode, each time
    }
    const meta = inboxMeta();
    assert.equal(inodes.size, 1, 'one write for five expunges of the newest message');
    assert.ok((JSON.parse(readFileSync(meta, 'utf8')) as { uidNextFloor: number }).uidNextFloor > 5);
    a.close();
    await store.close();
  });

  it('rebuilds a lost index from the files: same UIDs and UIDVALIDITY, UIDNEXT past an expunged newest message', async () => {
    const first = await openStore();
    let a = await first.store.openAccount(alice);
    await a.create('Projects/Alpha');
    await a.append('INBOX', [{ source: message('1') }, { source: message('2') }, { source: message('3') }]);
    await a.append('Projects/Alpha', [{ source: message('p') }]);
    const view = await a.openMailbox('INBOX', { readOnly: false });
    await view.expunge({ uids: [3], onlyDeleted: false });
    const inbox = await a.status('INBOX');
    const alpha = await a.status('Projects/Alpha');
    a.close();
    await first.store.close();

    const paths = accountPaths(first.dataDir, alice);
    writeFileSync(paths.index, 'this is not an index');
    const second = await openStore({}, first.dataDir);
    a = await second.store.openAccount(alice);
    assert.equal(second.rebuilds.length, 1);
    const rebuilt = await a.status('INBOX');
    assert.equal(rebuilt.uidValidity, inbox.uidValidity);
    assert.equal(rebuilt.messages, 2);
    // UID 3 was expunged and is not given out again: the floor written before that expunge is past
    // it by a reserve, so the next expunges of a newest message need no write (next test).
    assert.equal(rebuilt.uidNext, 4 + UID_FLOOR_RESERVE);
    assert.ok(rebuilt.highestModseq > inbox.highestModseq);
    assert.equal((await a.status('Projects/Alpha')).uidValidity, alpha.uidValidity);
    const v = await a.openMailbox('INBOX', { readOnly: true });
    assert.deepEqual(
      v.snapshot.messages.map((m) => m.uid),
      [1, 2],
    );
    assert.deepEqual(await v.readMessageBuffer(2), message('2'));
    assert.ok(existsSync(`${paths.index}.broken`), 'the broken index is kept for a post-mortem');
    a.close();
    await second.store.close();
  });

  it('removes what an uncommitted transaction left: files from UIDNEXT up, and everything in tmp/', async () => {
    const first = await openStore();
    let a = await first.store.openAccount(alice);
    await a.append('INBOX', [{ source: message('1') }]);
    a.close();
    await first.store.close();
    const paths = accountPaths(first.dataDir, alice);
    const inboxDir = readdirSync(paths.mailboxes).find((id) => existsSync(paths.messageFile(Number(id), 1)))!;
    // As a crash between linking in and commit leaves them:
    writeFileSync(paths.messageFile(Number(inboxDir), 2), 'half');
    writeFileSync(paths.messageFile(Number(inboxDir), 3), 'half');
    writeFileSync(join(first.dataDir, 'tmp', 'partial'), 'half');
    const second = await openStore({}, first.dataDir);
    a = await second.store.openAccount(alice);
    assert.ok(!existsSync(paths.messageFile(Number(inboxDir), 2)));
    assert.ok(!existsSync(paths.messageFile(Number(inboxDir), 3)));
    assert.deepEqual(readdirSync(join(first.dataDir, 'tmp')), []);
    assert.deepEqual((await a.append('INBOX', [{ source: message('2') }])).uids, [2]);
    assert.equal(second.rebuilds.length, 0);
    a.close();
    await second.store.close();
  });
});

describe('MailStore after a power loss', () => {
  it('drops the rows of a commit that outran its directory fsync when their file is gone', async () => {
    const first = await openStore();
    let a = await first.store.openAccount(alice);
    await a.append('INBOX', [{ source: message('1') }]);
    await a.append('INBOX', [{ source: message('2', 'the lost one') }]);
    a.close();
    await first.store.close();
    const paths = accountPaths(first.dataDir, alice);
    const inbox = Number(
      readdirSync(paths.mailboxes).find((id) => existsSync(paths.messageFile(Number(id), 2))),
    );
    // As a power loss leaves it when the WAL's fsync finished and the directory's did not: the
    // second append's rows and its check-placed action committed, its file's name lost.
    unlinkSync(paths.messageFile(inbox, 2));
    const db = new DatabaseSync(paths.index);
    db.prepare('INSERT INTO after_commit (action) VALUES (?)').run(
      JSON.stringify({ kind: 'check-placed', mailboxId: inbox, first: 2, last: 2 }),
    );
    db.close();
    const second = await openStore({}, first.dataDir);
    a = await second.store.openAccount(alice);
    const status = await a.status('INBOX');
    assert.deepEqual(
      [status.messages, status.size, status.unseen, status.uidNext],
      [1, message('1').length, 1, 3],
    );
    assert.deepEqual(
      (await a.append('INBOX', [{ source: message('3') }])).uids,
      [3],
      'UID 2 is not given again',
    );
    a.close();
    await second.store.close();
  });
});

describe('MailStore accounts and caches', () => {
  it('keeps a per-message cache until the message goes', async () => {
    const { store } = await openStore();
    const a = await store.openAccount(alice);
    await a.append('INBOX', [{ source: message('1') }]);
    const view = await a.openMailbox('INBOX', { readOnly: false });
    await view.putCached(1, 'imap.bodystructure.v1', '{"type":"text"}');
    assert.equal(await view.getCached(1, 'imap.bodystructure.v1'), '{"type":"text"}');
    assert.equal(await view.getCached(1, 'other'), undefined);
    await view.expunge({ uids: [1], onlyDeleted: false });
    assert.equal(await view.getCached(1, 'imap.bodystructure.v1'), undefined);
    await rejects(view.putCached(1, 'k', 'x'.repeat(70_000)), 'LIMIT');
    a.close();
    await store.close();
  });

  it('keeps a mailbox no session has selected loaded and current: it shows what the index says', async () => {
    const { store } = await openStore();
    const a = await store.openAccount(alice);
    await a.append('INBOX', [{ source: message('1') }, { source: message('2') }]);
    let view = await a.openMailbox('INBOX', { readOnly: false });
    view.close();
    assert.deepEqual(store.retainedMailboxes, { mailboxes: 1, messages: 2 });
    await store.deliver({ source: message('3'), recipients: [alice], sender: '' });
    assert.deepEqual(store.retainedMailboxes, { mailboxes: 1, messages: 3 }, 'the delivery is in it');
    assert.equal((await a.status('INBOX')).recent, 1, 'the first session was told of 1 and 2');
    view = await a.openMailbox('INBOX', { readOnly: false });
    assert.deepEqual(store.retainedMailboxes, { mailboxes: 0, messages: 0 }, 'selected: not counted');
    assert.deepEqual(
      view.snapshot.messages.map((m) => [m.uid, m.recent]),
      [
        [1, false],
        [2, false],
        [3, true],
      ],
    );
    await view.storeFlags({ uids: [1], mode: 'add', flags: ['\\Seen', 'Work'] });
    await view.expunge({ uids: [2], onlyDeleted: false });
    view.close();
    await a.append('INBOX', [{ source: message('4'), flags: ['Later'] }]);
    const shown = await a.openMailbox('INBOX', { readOnly: true });
    const summary = (v: MailboxView) => ({
      ...v.snapshot,
      messages: v.snapshot.messages.map(({ recent: _, ...m }) => m),
    });
    const kept = summary(shown);
    shown.close();
    a.close();
    await waitFor('the account to close', () => store.openAccounts === 0);
    assert.deepEqual(store.retainedMailboxes, { mailboxes: 0, messages: 0 }, 'closed with its account');
    const b = await store.openAccount(alice);
    const fromIndex = await b.openMailbox('INBOX', { readOnly: true });
    assert.deepEqual(kept, summary(fromIndex));
    assert.deepEqual(
      kept.messages.map((m) => [m.uid, m.flags]),
      [
        [1, ['\\Seen', 'Work']],
        [3, []],
        [4, ['Later']],
      ],
    );
    b.close();
    await store.close();
  });

  it('a mailbox first selected while a delivery to it is being committed ends up with the delivery, once', async () => {
    const { store } = await openStore();
    // For each user, a SELECT some turns of the event loop after the delivery began: one of them
    // falls between the delivery's look at what is loaded and its commit.
    const rounds = Array.from({ length: 24 }, async (_, i) => {
      const user = `race${i}@siroe.example`;
      const a = await store.openAccount(user);
      const delivered = store.deliver({ source: message(`m${i}`), recipients: [user], sender: '' });
      for (let tick = 0; tick < i; tick++) await new Promise((resolve) => setImmediate(resolve));
      const early = await a.openMailbox('INBOX', { readOnly: true });
      const sawEarly = early.snapshot.messages.length;
      await delivered;
      const told = early.takeChanges().changes.filter((c) => c.kind === 'exists').length;
      early.close();
      assert.equal(sawEarly + told, 1, `${user}: the early session has it once, at open or told after`);
      const view = await a.openMailbox('INBOX', { readOnly: true });
      assert.deepEqual(
        view.snapshot.messages.map((m) => m.uid),
        [1],
        `${user}: the mailbox as memory holds it after the delivery`,
      );
      view.close();
      a.close();
    });
    await Promise.all(rounds);
    await store.close();
  });

  it('retains within its budget: a large mailbox is read again, a deleted one is forgotten', async () => {
    // A budget of 20 messages keeps mailboxes of up to 2.
    const { store } = await openStore({ retainedMessages: 20 });
    const a = await store.openAccount(alice);
    await a.append('INBOX', [{ source: message('1') }, { source: message('2') }, { source: message('3') }]);
    await a.append('Archive', [{ source: message('a') }]);
    (await a.openMailbox('INBOX', { readOnly: true })).close();
    (await a.openMailbox('Archive', { readOnly: true })).close();
    assert.deepEqual(store.retainedMailboxes, { mailboxes: 1, messages: 1 }, 'Archive only');
    await a.append('Archive', [{ source: message('b') }, { source: message('c') }]);
    assert.deepEqual(store.retainedMailboxes, { mailboxes: 0, messages: 0 }, 'Archive grew past 2');
    const archive = await a.openMailbox('Archive', { readOnly: true });
    assert.equal(archive.snapshot.messages.length, 3);
    archive.close();
    await a.create('Lists');
    await a.append('Lists', [{ source: message('l') }]);
    (await a.openMailbox('Lists', { readOnly: true })).close();
    await a.rename('Lists', 'Old lists');
    const renamed = await a.openMailbox('Old lists', { readOnly: true });
    assert.equal(renamed.snapshot.messages.length, 1);
    renamed.close();
    assert.deepEqual(store.retainedMailboxes, { mailboxes: 1, messages: 1 });
    await a.delete('Old lists');
    assert.deepEqual(store.retainedMailboxes, { mailboxes: 0, messages: 0 });
    await a.create('Old lists');
    const again = await a.openMailbox('Old lists', { readOnly: true });
    assert.equal(again.snapshot.messages.length, 0);
    again.close();
    a.close();
    await store.close();
  });

  it('keeps at most idleAccountsKept accounts open with no session, closing the one idle longest', async () => {
    const { store } = await openStore({ idleAccountKeepMs: 60_000, idleAccountsKept: 2 });
    const users = ['a@siroe.example', 'b@siroe.example', 'c@siroe.example'];
    for (const user of users) {
      const account = await store.openAccount(user);
      await account.append('INBOX', [{ source: message(user) }]);
      account.close();
    }
    assert.equal(store.openAccounts, 2, 'a closed when c became idle');
    const a = await store.openAccount(users[0]!);
    assert.equal((await a.status('INBOX')).messages, 1, 'opened again while its close ran');
    assert.equal(store.openAccounts, 3, 'a session holds a: b and c stay idle');
    a.close();
    assert.equal(store.openAccounts, 2, 'b went: idle longest');
    await store.close();
  });

  it('reopens an account while its idle close is still running', async () => {
    const { store } = await openStore({ idleAccountKeepMs: 1 });
    for (let i = 0; i < 20; i++) {
      const a = await store.openAccount(alice);
      a.close();
      await new Promise((r) => setTimeout(r, i % 3));
    }
    const a = await store.openAccount(alice);
    assert.equal((await a.status('INBOX')).messages, 0);
    a.close();
    await store.close();
  });
});
