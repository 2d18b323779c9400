// A load driver for the crash tests: a process of its own that opens the engine on a data
// directory and runs APPEND (single and MULTIAPPEND), EXPUNGE, MOVE and RENAME in a loop, writing
// one line per operation to stdout with writeSync: "begin {...}" before, "done {...}" once the
// engine acknowledged it. The test kills it with SIGKILL at some moment and checks the directory
// against what was acknowledged (crash.ptest.ts).
//   node engine-load.ts DATA_DIR USER SEED
import { writeSync } from 'node:fs';
import { MailStore } from '../mailbox/mail-store.ts';

const [dataDir, user, seedText] = process.argv.slice(2) as [string, string, string];
let seed = Number(seedText) || 1;
/** A small deterministic PRNG, so a failing run can be repeated with its seed. */
const random = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};

/** The message for an id: its content says its id, and its length depends on it, so a cut shows. */
export function messageFor(id: string): Buffer {
  const filler = 'x'.repeat(200 + ((id.length * 97) % 3000));
  return Buffer.from(`Message-ID: <${id}@crash.test>\r\nSubject: ${id}\r\n\r\n${filler}\r\nend of ${id}\r\n`);
}

const say = (line: string) => writeSync(1, `${line}\n`);

async function main(): Promise<void> {
  const store = await MailStore.open({
    dataDir,
    quota: { storageBytes: undefined, messages: undefined },
    maxMessageBytes: 1 << 20,
  });
  const account = await store.openAccount(user);
  let names = ['INBOX', 'A', 'B'];
  for (const name of ['A', 'B'])
    if (!(await account.listMailboxes()).some((m) => m.name === name)) await account.create(name);
  let n = 0;
  const pid = process.pid;
  for (;;) {
    const roll = random();
    const mailbox = names[Math.floor(random() * names.length)]!;
    if (roll < 0.55) {
      const count = 1 + Math.floor(random() * 3);
      const ids = Array.from({ length: count }, () => `m${pid}-${++n}`);
      say(`begin ${JSON.stringify({ op: 'append', mailbox, ids })}`);
      const result = await account.append(
        mailbox,
        ids.map((id) => ({ source: messageFor(id) })),
      );
      say(`done ${JSON.stringify({ op: 'append', mailbox, ids, uids: result.uids })}`);
    } else if (roll < 0.75) {
      const view = await account.openMailbox(mailbox, { readOnly: false });
      const uids = view.snapshot.messages.filter(() => random() < 0.3).map((m) => m.uid);
      say(`begin ${JSON.stringify({ op: 'expunge', mailbox, uids })}`);
      const result = await view.expunge({ uids, onlyDeleted: false });
      say(`done ${JSON.stringify({ op: 'expunge', mailbox, uids: result.uids })}`);
      view.close();
    } else if (roll < 0.9) {
      const to = names.find((x) => x !== mailbox)!;
      const view = await account.openMailbox(mailbox, { readOnly: false });
      const uids = view.snapshot.messages.filter(() => random() < 0.3).map((m) => m.uid);
      say(`begin ${JSON.stringify({ op: 'move', mailbox, to, uids })}`);
      const result = await view.move(uids, to);
      say(`done ${JSON.stringify({ op: 'move', mailbox, to, mapping: result.mapping })}`);
      view.close();
    } else if (mailbox !== 'INBOX') {
      const to = `${mailbox.split('-')[0]}-${pid}-${++n}`;
      say(`begin ${JSON.stringify({ op: 'rename', mailbox, to })}`);
      await account.rename(mailbox, to);
      names = names.map((x) => (x === mailbox ? to : x));
      say(`done ${JSON.stringify({ op: 'rename', mailbox, to })}`);
    }
  }
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  main().catch((error: unknown) => {
    process.stderr.write(`engine-load: ${(error as Error).stack}\n`);
    process.exit(1);
  });
}
