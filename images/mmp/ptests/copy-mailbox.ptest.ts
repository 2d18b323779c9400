// copy-mailbox.ts (docs/mmp.md, "Moving a user") between two real store processes, reading the
// MMP config the operator renders (localized to loopback) as it does in an MMP pod: every folder and
// message with its flags, INTERNALDATE and bytes; mail that reached the target first is kept; a
// second run copies nothing; and once into Dovecot, for a site whose new store is not ours. The
// stores are read back with ImapFlow, logged in as the MMP is.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ImapFlow } from 'imapflow';
import { directoryConfig } from '../../../testing/peers/directory-fixture.ts';
import { startDovecot, type Dovecot } from '../../../testing/peers/dovecot.ts';
import { startSlapd, type Slapd } from '../../../testing/peers/slapd.ts';
import { makeSelfSignedCertificate } from '../../../testing/peers/tls-fixture.ts';
import { run } from '../../../testing/support/processes.ts';
import { makeTempDir } from '../../../testing/support/temp-dir.ts';
import {
  PROXY_SECRET,
  PROXY_USER,
  startStoreProcess,
  type StoreProcess,
} from '../../store/testing/store-process.ts';
import { localize, renderedMmpConfig } from '../testing/rendered-config.ts';

const TOOL = new URL('../copy-mailbox.ts', import.meta.url).pathname;
const STORE = (i: number) => `siroe-store-${i}.siroe-store.mail.svc.cluster.local`;
/** The store's account is the entry's mail; the tool is given the uid, as an operator would. */
const USER = 'ivy';
const ACCOUNT = 'ivy@example.test';
const day = (d: number) => new Date(Date.UTC(2025, 5, d, 8, 30, 0));

async function asUser(store: StoreProcess | Dovecot): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: '127.0.0.1',
    port: 'ports' in store ? store.ports.imap : store.imapPort,
    secure: false,
    doSTARTTLS: false,
    auth: { user: PROXY_USER, pass: PROXY_SECRET, authzid: ACCOUNT, loginMethod: 'AUTH=PLAIN' },
    logger: false,
    disableAutoIdle: true,
  });
  await client.connect();
  return client;
}

interface Seen {
  bytes: string;
  flags: string[];
  date: number;
}

async function folder(client: ImapFlow, path: string): Promise<Seen[]> {
  const lock = await client.getMailboxLock(path, { readOnly: true });
  try {
    const out: Seen[] = [];
    if (client.mailbox !== false && client.mailbox.exists > 0)
      for await (const m of client.fetch('1:*', { source: true, flags: true, internalDate: true }))
        out.push({
          bytes: m.source!.toString('latin1'),
          flags: [...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort(),
          date: new Date(m.internalDate!).getTime(),
        });
    return out.sort((a, b) => a.bytes.localeCompare(b.bytes));
  } finally {
    lock.release();
  }
}

const msg = (id: string | undefined, subject: string) =>
  `${id ? `Message-ID: <${id}@siroe.example>\r\n` : ''}Subject: ${subject}\r\nFrom: a@elsewhere.example\r\n\r\n${subject} body\r\n`;

describe('copy-mailbox between stores (two of ours, and Dovecot as a target)', () => {
  const dir = makeTempDir('copy-mailbox');
  let a: StoreProcess;
  let b: StoreProcess;
  let dovecot: Dovecot;
  let slapd: Slapd;
  let configFile: string;
  let archivePath: string;

  before(async () => {
    [a, b] = await Promise.all([
      startStoreProcess(join(dir.path, 'a'), { domains: ['example.test'] }),
      startStoreProcess(join(dir.path, 'b'), { domains: ['example.test'] }),
    ]);
    slapd = await startSlapd(join(dir.path, 'slapd'), [
      { uid: USER, password: 'ivy pw', mail: ACCOUNT, mailHost: 'siroe-store-1' },
    ]);
    dovecot = await startDovecot(join(dir.path, 'dovecot'), {
      users: [{ name: ACCOUNT }],
      master: { name: PROXY_USER, password: PROXY_SECRET },
    });
    const mmpDir = join(dir.path, 'mmp');
    mkdirSync(mmpDir, { recursive: true });
    const config = await localize(renderedMmpConfig('siroe'), {
      dir: mmpDir,
      directory: directoryConfig(slapd, mmpDir, { cacheTTLSeconds: 60 }),
      stores: {
        [STORE(0)]: { imapPort: a.ports.imap, pop3Port: a.ports.pop3 },
        [STORE(1)]: { imapPort: b.ports.imap, pop3Port: b.ports.pop3 },
        [STORE(2)]: { imapPort: dovecot.imapPort, pop3Port: dovecot.pop3Port },
      },
      tls: await makeSelfSignedCertificate(mmpDir),
      proxySecret: PROXY_SECRET,
    });
    configFile = join(mmpDir, 'config.json');
    writeFileSync(configFile, JSON.stringify(config));

    const source = await asUser(a);
    const delimiter = (await source.list()).find((f) => f.path === 'INBOX')?.delimiter || '/';
    archivePath = ['Archive', '2025'].join(delimiter);
    await source.mailboxCreate(archivePath);
    await source.mailboxSubscribe(archivePath);
    await source.append('INBOX', msg('one', 'first'), ['\\Seen'], day(1));
    await source.append('INBOX', msg('two', 'second'), ['\\Flagged', '\\Answered'], day(2));
    await source.append('INBOX', msg(undefined, 'no message-id'), [], day(3));
    await source.append(archivePath, msg('old', 'archived'), ['\\Seen'], day(4));
    await source.logout();
    // Mail that reached the new store after the mailHost change, before the copy.
    const target = await asUser(b);
    await target.append('INBOX', msg('new', 'arrived on b'), [], day(5));
    await target.logout();
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop(), dovecot?.stop(), slapd?.stop()]);
    dir.remove();
  });

  const copy = (to = 'siroe-store-1') =>
    run(process.execPath, [TOOL, USER, '--from', 'siroe-store-0', '--to', to, '--config', configFile], {
      timeoutMs: 60_000,
    });

  test('every folder and message arrives with flags, INTERNALDATE and bytes; earlier mail kept', async () => {
    const result = await copy();
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.equal(result.stderr, '');
    assert.match(
      result.stdout,
      /copied 4 of 4 messages of ivy@example.test in 7 folders \(0 already there, 1 folders created\)/,
    );
    const source = await asUser(a);
    const target = await asUser(b);
    try {
      const inboxA = await folder(source, 'INBOX');
      const inboxB = await folder(target, 'INBOX');
      assert.equal(inboxB.length, 4);
      for (const m of inboxA)
        assert.deepEqual(
          inboxB.find((x) => x.bytes === m.bytes),
          m,
        );
      assert.ok(inboxB.some((x) => x.bytes.includes('arrived on b')));
      assert.deepEqual(await folder(target, archivePath), await folder(source, archivePath));
      const listed = (await target.list()).find((f) => f.path === archivePath);
      assert.ok(listed?.subscribed, 'the archive folder is subscribed on the target');
    } finally {
      await Promise.allSettled([source.logout(), target.logout()]);
    }
  });

  test('a second run copies nothing and says so', async () => {
    const result = await copy();
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /copied 0 of 4 messages of ivy@example.test in 7 folders \(4 already there, 0 folders created\)/,
    );
    const target = await asUser(b);
    try {
      assert.equal((await folder(target, 'INBOX')).length, 4);
    } finally {
      await target.logout();
    }
  });

  test('into Dovecot: the same messages, flags and dates, folders by its own delimiter', async () => {
    const result = await copy('siroe-store-2');
    assert.equal(result.code, 0, result.stderr + result.stdout);
    // The directory still says siroe-store-1: the copy goes ahead, with a warning.
    assert.match(
      result.stderr,
      /routes ivy@example.test to siroe-store-1, not siroe-store-2; change the mailHost first/,
    );
    assert.match(
      result.stdout,
      /copied 4 of 4 messages of ivy@example.test in 7 folders \(0 already there, \d+ folders created\)/,
    );
    const source = await asUser(a);
    const target = await asUser(dovecot);
    try {
      assert.deepEqual(await folder(target, 'INBOX'), await folder(source, 'INBOX'));
      const delimiter = (await target.list()).find((f) => f.path === 'INBOX')?.delimiter || '/';
      const archive = ['Archive', '2025'].join(delimiter);
      assert.deepEqual(await folder(target, archive), await folder(source, archivePath));
      assert.ok((await target.list()).find((f) => f.path === archive)?.subscribed);
    } finally {
      await Promise.allSettled([source.logout(), target.logout()]);
    }
    const again = await copy('siroe-store-2');
    assert.match(again.stdout, /copied 0 of 4 messages/);
  });

  test('an unknown store is refused by name', async () => {
    const result = await run(process.execPath, [
      TOOL,
      USER,
      '--from',
      'siroe-store-0',
      '--to',
      'nowhere',
      '--config',
      configFile,
    ]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no store nowhere; known: siroe-store-0/);
  });
});
