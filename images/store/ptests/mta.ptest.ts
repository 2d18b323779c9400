// Our own MTA delivering to the store: the inbound relay looks the recipient up in slapd, routes by
// mailHost to this store over LMTP, and the message reads back over POP3 as it was sent.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startSlapd, type Slapd } from '../../../testing/peers/slapd.ts';
import { directoryConfig, USERS } from '../../../testing/peers/directory-fixture.ts';
import { makeTempDir } from '../../../testing/support/temp-dir.ts';
import { waitFor } from '../../../testing/support/wait.ts';
import { startMtaProcess, type MtaProcess } from '../../mta/testing/mta-process.ts';
import { startStoreProcess, type StoreProcess } from '../testing/store-process.ts';
import { poplib, smtplibSend } from './peers.ts';

const temp = makeTempDir('store-mta');
let slapd: Slapd;
let store: StoreProcess;
let mta: MtaProcess;

before(async () => {
  slapd = await startSlapd(join(temp.path, 'slapd'), USERS);
  store = await startStoreProcess(join(temp.path, 'store'), { domains: ['example.test'] });
  const dir = join(temp.path, 'mta');
  mkdirSync(dir, { recursive: true });
  mta = await startMtaProcess({
    role: 'inbound',
    dir,
    overrides: {
      directory: directoryConfig(slapd, dir),
      stores: {
        'store-a': {
          host: '127.0.0.1',
          lmtpPort: store.ports.lmtp,
          imapPort: 1143,
          pop3Port: store.ports.pop3,
        },
      },
    },
  });
});
after(async () => {
  await mta?.stop();
  await store?.stop();
  await slapd?.stop();
  temp.remove();
});

const inbox = (user: string) =>
  poplib({
    port: store.ports.pop3,
    user,
    tls: 'plain',
    body: 'n = p.stat()[0]\nout = [(b"\\r\\n".join(p.retr(i)[1]) + b"\\r\\n").decode("latin1") for i in range(1, n + 1)]\np.quit()\nprint(json.dumps(out))',
  }).then((out) => JSON.parse(out) as string[]);

describe('our MTA delivering to the store', () => {
  it('delivers a user whose mailHost is this store, byte for byte after its Received header', async () => {
    const original =
      'From: <s@elsewhere.example>\r\nTo: <alice@example.test>\r\nSubject: via mtopo\r\nMessage-ID: <via-mtopo@elsewhere.example>\r\n\r\n.dot\r\nbody\r\n';
    await smtplibSend(mta.port, 's@elsewhere.example', ['alice@example.test'], original);
    const messages = await waitFor(
      "the message in alice's INBOX",
      async () => {
        const m = await inbox('alice@example.test');
        return m.length > 0 ? m : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const stored = messages[0]!;
    assert.match(stored, /^Received: /);
    assert.equal(stored.slice(stored.indexOf('From: <s@elsewhere.example>')), original);
  });
});

describe('our MTA delivering an alias', () => {
  // The store keys accounts by the address it is given (it has no directory), so the MTA hands it
  // the entry's primary address, not the alias the sender wrote.
  it("delivers mail for an alias into its owner's INBOX (the MTA sends the primary address at RCPT)", async () => {
    const original = 'Subject: to the alias\r\n\r\nhello\r\n';
    await smtplibSend(mta.port, 's@elsewhere.example', ['a.lias@example.test'], original);
    await waitFor(
      "the aliased message in alice's INBOX",
      async () => (await inbox('alice@example.test')).some((m) => m.endsWith(original)),
      {
        timeoutMs: 10_000,
      },
    );
  });
});
