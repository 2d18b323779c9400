// kill -9 under load, and what the store must hold afterwards (docs/store.md, "Crash guarantees"):
// every acknowledged message present exactly once and whole, nothing half-written, no UID given
// twice. Two loads: the real program taking LMTP deliveries from concurrent clients, and the engine
// in a process of its own running APPEND/MULTIAPPEND, EXPUNGE, MOVE and RENAME.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SmtpTranscript } from '../../../testing/peers/smtp-transcript.ts';
import { makeTempDir } from '../../../testing/support/temp-dir.ts';
import { waitFor } from '../../../testing/support/wait.ts';
import { accountPaths } from '../mailbox/layout.ts';
import { MailStore } from '../mailbox/mail-store.ts';
import { messageFor } from '../testing/engine-load.ts';
import { DOMAIN, startStoreProcess } from '../testing/store-process.ts';

const temp = makeTempDir('store-crash');
after(() => temp.remove());

interface Found {
  mailbox: string;
  uid: number;
}

/** Every message of a user: id (from its Subject) → where it is; asserts each is whole. */
async function inventory(dataDir: string, user: string) {
  const store = await MailStore.open({
    dataDir,
    quota: { storageBytes: undefined, messages: undefined },
    maxMessageBytes: 1 << 20,
  });
  const account = await store.openAccount(user);
  const found = new Map<string, Found[]>();
  const uidNext = new Map<string, number>();
  for (const info of await account.listMailboxes()) {
    if (!info.selectable) continue;
    const view = await account.openMailbox(info.name, { readOnly: true });
    uidNext.set(info.name, view.snapshot.uidNext);
    for (const m of view.snapshot.messages) {
      assert.ok(m.uid < view.snapshot.uidNext, `UID ${m.uid} in ${info.name} is below UIDNEXT`);
      const bytes = await view.readMessageBuffer(m.uid);
      const id = /Subject: (\S+)/.exec(bytes.toString('latin1'))?.[1];
      assert.ok(id, `message ${info.name}/${m.uid} has its Subject`);
      assert.deepEqual(bytes, messageFor(id), `message ${id} is whole (${bytes.length} bytes)`);
      assert.equal(m.size, bytes.length);
      found.set(id, [...(found.get(id) ?? []), { mailbox: info.name, uid: m.uid }]);
    }
    view.close();
  }
  account.close();
  await store.close();
  return { found, uidNext };
}

describe('kill -9 during LMTP DATA under load', () => {
  it('keeps every acknowledged message exactly once and whole, and gives no UID twice', async () => {
    const dir = join(temp.path, 'lmtp');
    let store = await startStoreProcess(dir);
    const users = ['ann', 'ben', 'cat'].map((u) => `${u}@${DOMAIN}`);
    const acked = new Map<string, string[]>(); // id → recipients acknowledged with 250
    const maxUid = new Map<string, number>();
    let sent = 0;
    for (let round = 0; round < 3; round++) {
      let stop = false;
      const client = async (c: number) => {
        let t: SmtpTranscript | undefined;
        try {
          t = await SmtpTranscript.open(store.ports.lmtp);
          await t.read();
          await t.command('LHLO crash');
          while (!stop) {
            const id = `r${round}c${c}n${++sent}`;
            const rcpts = sent % 4 === 0 ? [users[c % 3]!, users[(c + 1) % 3]!] : [users[c % 3]!];
            await t.command('MAIL FROM:<load@remote.example>');
            for (const r of rcpts) await t.command(`RCPT TO:<${r}>`);
            await t.command('DATA');
            // Dot-stuffing is not needed: no line of messageFor() starts with a dot.
            t.write(Buffer.concat([messageFor(id), Buffer.from('.\r\n')]));
            for (const r of rcpts) {
              const reply = await t.read(10_000);
              if (reply.code === 250) {
                acked.set(id, [...(acked.get(id) ?? []), r]);
                const uid = Number(/UID (\d+)/.exec(reply.text)?.[1]);
                maxUid.set(r, Math.max(maxUid.get(r) ?? 0, uid));
              }
            }
          }
        } catch {
          // The kill cut the connection: what was not acknowledged may or may not be there.
        } finally {
          t?.close();
        }
      };
      const clients = Array.from({ length: 8 }, (_, c) => client(c));
      // Kill at a different moment each round, once deliveries are flowing.
      const before = acked.size;
      await waitFor('deliveries to flow', () => acked.size >= before + 20 + round * 37, {
        timeoutMs: 30_000,
      });
      await store.kill();
      stop = true;
      await Promise.all(clients);
      store = await store.restart();
    }
    await store.stop();
    assert.ok(acked.size > 100, `enough load: ${acked.size} messages acknowledged`);
    for (const user of users) {
      const { found, uidNext } = await inventory(store.config.dataDir, user);
      for (const [id, places] of found) assert.equal(places.length, 1, `${id} is in ${user}'s mailbox once`);
      for (const [id, recipients] of acked)
        if (recipients.includes(user)) assert.ok(found.has(id), `acknowledged ${id} is in ${user}'s INBOX`);
      assert.ok(
        (uidNext.get('INBOX') ?? 0) > (maxUid.get(user) ?? 0),
        `${user}'s UIDNEXT is past every UID given out`,
      );
    }
  });
});

interface Op {
  op: 'append' | 'expunge' | 'move' | 'rename';
  mailbox: string;
  ids?: string[];
  uids?: number[];
  to?: string;
  mapping?: [number, number][];
}

describe('kill -9 during APPEND, EXPUNGE, MOVE and RENAME under load', () => {
  it('leaves exactly what was acknowledged, give or take the one operation in flight', async () => {
    const dataDir = join(temp.path, 'engine', 'data');
    const user = `dora@${DOMAIN}`;
    // The model: where each acknowledged message is (mailbox → uid → id), and the highest UID each
    // mailbox ever gave (carried along by renames).
    let model = new Map<string, Map<number, string>>();
    const highest = new Map<string, number>();
    const box = (name: string) => {
      let m = model.get(name);
      if (!m) model.set(name, (m = new Map<number, string>()));
      return m;
    };
    for (let round = 0; round < 5; round++) {
      const child = spawn(
        process.execPath,
        [new URL('../testing/engine-load.ts', import.meta.url).pathname, dataDir, user, String(round + 7)],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let output = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await waitFor(
        'operations to be acknowledged',
        () => {
          if (child.exitCode !== null) throw new Error(`engine-load exited: ${stderr}`);
          return (output.match(/^done /gm)?.length ?? 0) >= 15 + round * 11;
        },
        { timeoutMs: 60_000 },
      );
      child.kill('SIGKILL');
      await exited;
      let inFlight: Op | undefined;
      for (const line of output.split('\n')) {
        if (line.startsWith('begin ')) inFlight = JSON.parse(line.slice(6)) as Op;
        if (!line.startsWith('done ')) continue;
        inFlight = undefined;
        const op = JSON.parse(line.slice(5)) as Op;
        const src = box(op.mailbox);
        if (op.op === 'append') op.ids!.forEach((id, i) => src.set(op.uids![i]!, id));
        if (op.op === 'append') highest.set(op.mailbox, Math.max(highest.get(op.mailbox) ?? 0, ...op.uids!));
        if (op.op === 'expunge') for (const uid of op.uids!) src.delete(uid);
        if (op.op === 'move') {
          for (const [from, to] of op.mapping!) {
            box(op.to!).set(to, src.get(from)!);
            src.delete(from);
            highest.set(op.to!, Math.max(highest.get(op.to!) ?? 0, to));
          }
        }
        if (op.op === 'rename') {
          model.set(op.to!, src);
          model.delete(op.mailbox);
          highest.set(op.to!, highest.get(op.mailbox) ?? 0);
          highest.delete(op.mailbox);
        }
      }
      const { found, uidNext } = await inventory(dataDir, user);
      const touched = new Set<string>();
      if (inFlight?.op === 'append') for (const id of inFlight.ids!) touched.add(id);
      if (inFlight && inFlight.op !== 'append')
        for (const uid of inFlight.uids ?? []) {
          const id = model.get(inFlight.mailbox)?.get(uid);
          if (id) touched.add(id);
        }
      const expected = new Map<string, Found>();
      for (const [mailbox, uids] of model) for (const [uid, id] of uids) expected.set(id, { mailbox, uid });
      for (const [id, places] of found) {
        assert.equal(
          places.length,
          1,
          `${id} is in one place (round ${round}, in flight ${JSON.stringify(inFlight)})`,
        );
        const want = expected.get(id);
        if (!want) {
          assert.ok(
            touched.has(id) && inFlight?.op === 'append',
            `${id} was never acknowledged nor in flight`,
          );
          continue;
        }
        const place = places[0]!;
        const renamedInFlight =
          inFlight?.op === 'rename' && want.mailbox === inFlight.mailbox && place.mailbox === inFlight.to;
        const movedInFlight = inFlight?.op === 'move' && touched.has(id) && place.mailbox === inFlight.to;
        if (!renamedInFlight && !movedInFlight)
          assert.deepEqual(place, want, `${id} is where it was acknowledged`);
      }
      for (const [id, want] of expected) {
        if (found.has(id)) continue;
        assert.ok(
          inFlight?.op === 'expunge' && touched.has(id),
          `acknowledged ${id} (${want.mailbox}/${want.uid}) is present`,
        );
      }
      for (const [mailbox, max] of highest) {
        const next =
          uidNext.get(mailbox) ??
          uidNext.get(inFlight?.op === 'rename' && inFlight.mailbox === mailbox ? inFlight.to! : mailbox);
        if (next !== undefined)
          assert.ok(next > max, `${mailbox}: UIDNEXT ${next} is past UID ${max} given before`);
      }
      // The next round starts from what is on disk (the one in-flight operation decided). A rename
      // in flight that took place carries its mailbox's highest UID to the new name; a name no
      // longer on disk is forgotten, since the next round's driver creates a fresh A or B under it,
      // with a new UIDVALIDITY whose UIDs start again at 1.
      if (inFlight?.op === 'rename' && !uidNext.has(inFlight.mailbox) && uidNext.has(inFlight.to!))
        highest.set(
          inFlight.to!,
          Math.max(highest.get(inFlight.to!) ?? 0, highest.get(inFlight.mailbox) ?? 0),
        );
      for (const mailbox of [...highest.keys()]) if (!uidNext.has(mailbox)) highest.delete(mailbox);
      model = new Map();
      for (const [id, [place]] of found) box(place!.mailbox).set(place!.uid, id);
      for (const [mailbox, next] of uidNext)
        highest.set(mailbox, Math.max(highest.get(mailbox) ?? 0, next - 1));
      await sleep(10);
    }
    // The files agree with the index: no orphan and no leftover of an expunge survives, since a
    // rebuild from the files alone finds exactly the same messages in the same places.
    const before = await inventory(dataDir, user);
    const paths = accountPaths(dataDir, user);
    for (const suffix of ['', '-wal', '-shm']) rmSync(paths.index + suffix, { force: true });
    const rebuilt = await inventory(dataDir, user);
    assert.deepEqual(rebuilt.found, before.found);
    for (const [mailbox, next] of before.uidNext)
      assert.ok((rebuilt.uidNext.get(mailbox) ?? 0) >= next, `${mailbox} UIDNEXT kept`);
  });
});
