// The MMP in front of our own store (images/store, as its protocol tests run it), with our inbound
// MTA delivering into it over LMTP: what the MTA delivers to the account's primary address is what
// a user reads back through the MMP, whether they log in by uid or address and whether the mail was
// sent to the address or an alias. Once over plain TCP to the store, once over TLS (storeTls).
// Clients: Python's smtplib and imaplib, curl.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ImapFlow } from 'imapflow';
import { directoryConfig, USERS } from '../../../testing/peers/directory-fixture.ts';
import { startSlapd, type Slapd } from '../../../testing/peers/slapd.ts';
import { makeSelfSignedCertificate } from '../../../testing/peers/tls-fixture.ts';
import { run } from '../../../testing/support/processes.ts';
import { makeTempDir } from '../../../testing/support/temp-dir.ts';
import { waitFor } from '../../../testing/support/wait.ts';
import { marker } from '../../mta/testing/clients.ts';
import { startMtaProcess, type MtaProcess } from '../../mta/testing/mta-process.ts';
import { PROXY_SECRET, startStoreProcess, type StoreProcess } from '../../store/testing/store-process.ts';
import { startMmpProcess, type MmpProcess } from '../testing/mmp-process.ts';
import { localize, onlySiroeStoreZero, renderedMmpConfig } from '../testing/rendered-config.ts';

/** uid and primary address differ; an alias besides. */
const IVY = {
  uid: 'ivy',
  password: 'ivy pw',
  mail: 'ivy.smith@example.test',
  aliases: ['i.smith@example.test'],
  mailHost: 'siroe-store-0',
};

/** A second user on the same store. */
const JUNE = { uid: 'june', password: 'june pw', mail: 'june@example.test', mailHost: 'siroe-store-0' };

/** imaplib through the MMP: every INBOX message, whole, as JSON. */
const IMAPLIB_ALL = `
import imaplib, json, ssl, sys
port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
c = imaplib.IMAP4('127.0.0.1', port)
c.starttls(ssl_context=ssl._create_unverified_context())
c.login(user, password)
c.select('INBOX')
typ, data = c.fetch('1:*', '(BODY.PEEK[])')
print(json.dumps([part[1].decode('latin1') for part in data if isinstance(part, tuple)]))
c.logout()
`;

/** imaplib through the MMP: just the login's answer. */
const IMAPLIB_LOGIN = `
import imaplib, ssl, sys
port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
c = imaplib.IMAP4('127.0.0.1', port)
c.starttls(ssl_context=ssl._create_unverified_context())
try:
    c.login(user, password); print('OK')
except imaplib.IMAP4.error as e:
    print(e)
`;

function send(port: number, to: string, message: string) {
  return run(
    'python3',
    [
      '-c',
      `import smtplib,sys\ns=smtplib.SMTP('127.0.0.1', ${port})\ns.sendmail('s@elsewhere.example', [${JSON.stringify(to)}], sys.stdin.buffer.read())\ns.quit()`,
    ],
    { input: message },
  );
}

describe('the MMP in front of our own store, fed by our inbound MTA', () => {
  const dir = makeTempDir('mmp-own-store');
  let slapd: Slapd;
  let store: StoreProcess;
  let mta: MtaProcess;
  let plain: MmpProcess;
  let overTls: MmpProcess;
  let wrongCa: MmpProcess;

  async function startMmp(
    name: string,
    ports: { imapPort: number; pop3Port: number },
    tls: boolean,
    caFile = store.caFile,
  ) {
    const mmpDir = join(dir.path, name);
    mkdirSync(mmpDir, { recursive: true });
    const config = await localize(renderedMmpConfig('siroe'), {
      dir: mmpDir,
      directory: directoryConfig(slapd, mmpDir, { cacheTTLSeconds: 60 }),
      stores: await onlySiroeStoreZero(ports),
      tls: await makeSelfSignedCertificate(mmpDir),
      proxySecret: PROXY_SECRET,
      // The capability lists are left at their defaults: our store's (images/lib/contract).
      ...(tls ? { storeTls: { caFile } } : {}),
    });
    return startMmpProcess(config, mmpDir);
  }

  before(async () => {
    slapd = await startSlapd(join(dir.path, 'slapd'), [...USERS, IVY, JUNE]);
    store = await startStoreProcess(join(dir.path, 'store'), { domains: ['example.test'] });
    const mtaDir = join(dir.path, 'mta');
    mkdirSync(mtaDir, { recursive: true });
    mta = await startMtaProcess({
      role: 'inbound',
      dir: mtaDir,
      overrides: {
        directory: directoryConfig(slapd, mtaDir),
        stores: {
          'siroe-store-0': {
            host: '127.0.0.1',
            lmtpPort: store.ports.lmtp,
            imapPort: store.ports.imap,
            pop3Port: store.ports.pop3,
          },
        },
      },
    });
    const tlsPorts = { imapPort: store.ports.imaps, pop3Port: store.ports.pop3s };
    mkdirSync(join(dir.path, 'other-ca'), { recursive: true });
    const otherCa = await makeSelfSignedCertificate(join(dir.path, 'other-ca'));
    [plain, overTls, wrongCa] = await Promise.all([
      startMmp('plain', { imapPort: store.ports.imap, pop3Port: store.ports.pop3 }, false),
      startMmp('tls', tlsPorts, true),
      startMmp('wrong-ca', tlsPorts, true, otherCa.certFile),
    ]);
  });

  after(async () => {
    await Promise.all([plain?.stop(), overTls?.stop(), wrongCa?.stop()]);
    await mta?.stop();
    await store?.stop();
    await slapd?.stop();
    dir.remove();
  });

  test('mail to the address and to an alias reads back by uid and by address, byte for byte', async () => {
    const tag = marker();
    const toAddress = `Subject: ${tag} to the address\r\n\r\nfirst\r\n`;
    const toAlias = `Subject: ${tag} to the alias\r\n\r\nsecond\r\n`;
    for (const [to, message] of [
      [IVY.mail, toAddress],
      [IVY.aliases[0]!, toAlias],
    ] as const) {
      const sent = await send(mta.port, to, message);
      assert.equal(sent.code, 0, sent.stderr);
    }
    for (const login of [IVY.uid, IVY.mail]) {
      const read = await waitForMessages(plain.ports.imap!, login, 2);
      // What the MTA delivered, after its Received: header, is what the client reads.
      assert.ok(
        read.some((m) => m.endsWith(toAddress)),
        `${login}: ${JSON.stringify(read)}`,
      );
      assert.ok(read.some((m) => m.endsWith(toAlias)));
    }
    // The client's address the MMP sends before its login (ID x-originating-ip) is taken, not
    // refused: the store and the MMP agree on when it is said.
    const storeLines = store.logs();
    assert.ok(storeLines.some((l) => l.msg === 'IMAP login' && l.user === IVY.mail));
    assert.deepEqual(
      storeLines.filter((l) => /x-originating-ip/.test(String(l.msg))),
      [],
    );
  });

  test('after LOGOUT the store hands the connection back: the next user logs in on it, into their own mailbox', async () => {
    const tag = marker();
    const toIvy = `Subject: ${tag} for ivy\r\n\r\nivy's\r\n`;
    assert.equal((await send(mta.port, IVY.mail, toIvy)).code, 0);
    const handbacks = () => plain.metric('mtopo_mmp_store_handbacks_total', { protocol: 'imap' });
    const before = await handbacks();
    const ivys = await waitForMessages(plain.ports.imap!, IVY.uid, 1, IVY.password);
    assert.ok(ivys.some((m) => m.endsWith(toIvy)));
    await waitFor('the store to hand the connection back', async () => (await handbacks()) > before);
    const counted = await handbacks();
    // June's login comes while Ivy's connection waits in the pool: none of Ivy's mail is June's.
    const junes = await run('python3', [
      '-c',
      IMAPLIB_ALL,
      String(plain.ports.imap),
      JUNE.uid,
      JUNE.password,
    ]);
    assert.equal(junes.code, 0, junes.stderr);
    assert.ok(!junes.stdout.includes(tag), junes.stdout);
    await waitFor("June's connection handed back too", async () => (await handbacks()) > counted);
    // And Ivy again, after June: her mailbox as it was.
    const again = await waitForMessages(plain.ports.imap!, IVY.uid, ivys.length, IVY.password);
    assert.deepEqual(again, ivys);
  });

  test("COMPRESS=DEFLATE with our store: ImapFlow's deflated session works through the splice and ends in a close, not a handback", async () => {
    const handbacks = () => plain.metric('mtopo_mmp_store_handbacks_total', { protocol: 'imap' });
    const toClient = () =>
      plain.metric('mtopo_mmp_spliced_bytes_total', { protocol: 'imap', direction: 'to-client' });
    const [handbacks0, toClient0] = [await handbacks(), await toClient()];
    const client = new ImapFlow({
      host: '127.0.0.1',
      port: plain.ports.imap!,
      secure: false,
      tls: { rejectUnauthorized: false },
      auth: { user: IVY.uid, pass: IVY.password },
      logger: false,
    });
    await client.connect();
    assert.ok((client as unknown as { _deflate?: unknown })._deflate, 'ImapFlow did not start COMPRESS');
    const status = await client.status('INBOX', { messages: true });
    const messages = status ? (status.messages ?? 0) : 0;
    assert.ok(messages > 0, "Ivy's INBOX through a compressed session");
    await client.logout();
    // Counted when the session ends, after a handback would have been.
    await waitFor('the compressed session to end', async () => (await toClient()) > toClient0);
    assert.equal(await handbacks(), handbacks0, 'a compressed session was handed back');
    // The next login connects anew and works as before.
    const again = await waitForMessages(plain.ports.imap!, IVY.uid, messages, IVY.password);
    assert.equal(again.length, messages);
  });

  test('storeTls: the same mailbox through the MMP over TLS to the store (imaplib and curl pop3s)', async () => {
    const tag = marker();
    const message = `Subject: ${tag} over tls\r\n\r\nthird\r\n`;
    assert.equal((await send(mta.port, IVY.mail, message)).code, 0);
    const read = await waitForMessages(overTls.ports.imap!, IVY.uid, 3);
    assert.ok(read.some((m) => m.endsWith(message)));
    const pop = await run('curl', [
      '-sk',
      '--max-time',
      '20',
      '-u',
      `${IVY.mail}:${IVY.password}`,
      `pop3s://127.0.0.1:${overTls.ports.pop3s}/`,
    ]);
    assert.equal(pop.code, 0, pop.stderr);
    assert.ok(pop.stdout.trim().split('\n').length >= 3, pop.stdout);
    // Those ports speak only TLS; and the store's certificate is checked: against another CA the
    // MMP refuses the store, and the client is told to come back later.
    const refused = await run(
      'python3',
      ['-c', IMAPLIB_LOGIN, String(wrongCa.ports.imap), IVY.uid, IVY.password],
      {
        timeoutMs: 30_000,
      },
    );
    assert.match(refused.stdout, /UNAVAILABLE/, refused.stderr);
    await waitFor('the TLS failure in the log', () =>
      wrongCa.logs().some((l) => l.failure === 'store-down' && /certificate/i.test(String(l.detail))),
    );
  });
});

function waitForMessages(
  port: number,
  login: string,
  atLeast: number,
  password = IVY.password,
): Promise<string[]> {
  return waitFor(
    `${atLeast} messages for ${login} through the MMP`,
    async () => {
      const result = await run('python3', ['-c', IMAPLIB_ALL, String(port), login, password], {
        timeoutMs: 30_000,
      });
      assert.equal(result.code, 0, result.stderr);
      const messages = JSON.parse(result.stdout) as string[];
      return messages.length >= atLeast ? messages : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
}
