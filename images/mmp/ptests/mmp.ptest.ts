// The MMP against real peers: Dovecot as two stores (siroe-store-0 and -1, with a master user),
// slapd as the directory (its first URL dead, so every lookup fails over), and clients no one here
// wrote: Python's imaplib and poplib, curl, ImapFlow. The MMP runs on the config the operator renders
// for examples/siroe.yaml, localized to loopback (images/mmp/testing/rendered-config.ts).
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ImapFlow } from 'imapflow';
import { directoryConfig, USERS } from '../../../testing/peers/directory-fixture.ts';
import { startDovecot, type Dovecot } from '../../../testing/peers/dovecot.ts';
import { startSlapd, type Slapd } from '../../../testing/peers/slapd.ts';
import { makeSelfSignedCertificate } from '../../../testing/peers/tls-fixture.ts';
import { freePort } from '../../../testing/support/free-ports.ts';
import { run } from '../../../testing/support/processes.ts';
import { makeTempDir } from '../../../testing/support/temp-dir.ts';
import { waitFor } from '../../../testing/support/wait.ts';
import { startMmpProcess, type MmpProcess } from '../testing/mmp-process.ts';
import type { MmpConfig } from '../../lib/contract/mmp.ts';
import { localize, renderedMmpConfig, type LocalMmpEnvironment } from '../testing/rendered-config.ts';

const SECRET = 'store-proxy-secret-for-tests';
const STORE = (i: number) => `siroe-store-${i}.siroe-store.mail.svc.cluster.local`;
// Users on the rendered site's stores, by both mailHost forms the directory may hold.
const SITE_USERS = [
  { uid: 'erin', password: 'erin-pw', mail: 'erin@example.test', mailHost: 'siroe-store-0' },
  { uid: 'frank', password: 'frank pw', mail: 'frank@example.test', mailHost: STORE(1) },
  { uid: 'gina', password: 'gina-pw', mail: 'gina@example.test', mailHost: 'siroe-store-2' },
  { uid: 'hal', password: 'hal-pw', mail: 'hal@example.test', mailHost: 'siroe-store-0' },
  { uid: 'ida', password: 'ida-pw', mail: 'ida@example.test', mailHost: STORE(1) },
];

/** A line-oriented raw client: what a hostile or a scripted client sends. */
class RawClient {
  socket: Socket;
  #buffer = '';
  #closed = false;
  constructor(socket: Socket) {
    this.socket = socket;
    this.#attach(socket);
  }
  #attach(socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (this.#buffer += chunk));
    socket.on('close', () => (this.#closed = true));
    socket.on('error', () => undefined);
  }
  static connect(port: number, localAddress?: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connectTcp({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) });
      socket.once('connect', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }
  send(text: string | Buffer) {
    this.socket.write(text);
  }
  get closed() {
    return this.#closed;
  }
  /** Waits until what was received matches, and returns it all (then forgets it). */
  async expect(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    const text = await waitFor(
      `a reply matching ${pattern}`,
      () => (pattern.test(this.#buffer) ? this.#buffer : false),
      {
        timeoutMs,
        intervalMs: 10,
      },
    );
    this.#buffer = '';
    return text;
  }
  /** Upgrades to TLS in place (after STARTTLS/STLS). */
  async startTls(): Promise<void> {
    this.socket.removeAllListeners('data');
    const secure = connectTls({ socket: this.socket, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    this.socket = secure;
    this.#buffer = '';
    this.#attach(secure);
  }
  close() {
    this.socket.destroy();
  }
}

function python(script: string, args: string[]) {
  return run('python3', ['-c', script, ...args], { timeoutMs: 30_000 });
}

/** imaplib over STARTTLS: log in, read the INBOX's first subject. */
const IMAPLIB_SUBJECT = `
import imaplib, ssl, sys
port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
c = imaplib.IMAP4('127.0.0.1', port)
c.starttls(ssl_context=ssl._create_unverified_context())
try:
    c.login(user, password)
except imaplib.IMAP4.error as e:
    print('LOGIN-FAILED', e); sys.exit(0)
c.select('INBOX')
typ, data = c.fetch('1', '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
print(data[0][1].decode().strip())
c.logout()
`;

/** poplib over STLS: log in, read the first message's subject. */
const POPLIB_SUBJECT = `
import poplib, ssl, sys
port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
p = poplib.POP3('127.0.0.1', port)
p.stls(context=ssl._create_unverified_context())
try:
    p.user(user); p.pass_(password)
except poplib.error_proto as e:
    print('LOGIN-FAILED', e); sys.exit(0)
count, size = p.stat()
lines = p.top(1, 0)[1]
print(count, [l.decode() for l in lines if l.startswith(b'Subject:')][0])
p.quit()
`;

/** A PROXY protocol v2 header (haproxy's PROXY protocol spec, section 2.2) for a TCP4 client. */
function proxyV2(client: string, clientPort: number): Buffer {
  const signature = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
  const addresses = Buffer.alloc(12);
  client.split('.').forEach((o, i) => addresses.writeUInt8(Number(o), i));
  [127, 0, 0, 1].forEach((o, i) => addresses.writeUInt8(o, 4 + i));
  addresses.writeUInt16BE(clientPort, 8);
  addresses.writeUInt16BE(143, 10);
  const head = Buffer.from([0x21, 0x11, 0x00, 12]);
  return Buffer.concat([signature, head, addresses]);
}

/** The store's capabilities after a master login: what the MMP must advertise before its own. */
async function capabilitiesAfterLogin(port: number, user: string): Promise<string[]> {
  const c = await RawClient.connect(port);
  await c.expect(/^\* OK.*\r\n/);
  c.send(`a AUTHENTICATE PLAIN ${Buffer.from(`${user}\0mmp\0${SECRET}`).toString('base64')}\r\n`);
  await c.expect(/a OK.*\r\n/);
  c.send('b CAPABILITY\r\n');
  const caps = await c.expect(/b OK.*\r\n/);
  c.close();
  return /\* CAPABILITY (.*)\r\n/.exec(caps)![1]!.split(' ');
}

describe('the MMP in front of two Dovecot stores', () => {
  const dir = makeTempDir('mmp-ptest');
  let slapd: Slapd;
  let storeA: Dovecot;
  let storeB: Dovecot;
  let mmp: MmpProcess;
  let balanced: MmpProcess;
  let imapCaps: string[];
  let certFile: string;
  /** What every MMP of this suite is started from: the rendered config, localized with `base`. */
  let rendered: MmpConfig;
  let base: Omit<LocalMmpEnvironment, 'dir'>;

  /** ImapFlow through the MMP's implicit-TLS IMAP listener as `user`, not yet connected. */
  const imapsClient = (user: string, pass: string) =>
    new ImapFlow({
      host: '127.0.0.1',
      port: mmp.ports.imaps!,
      secure: true,
      tls: { rejectUnauthorized: false },
      auth: { user, pass },
      logger: false,
    });
  const imapsSession = async (user: string, pass: string) => {
    const client = imapsClient(user, pass);
    await client.connect();
    return client;
  };
  /** Runs `work` with the client's INBOX selected and locked, and releases the lock whatever happens. */
  const inInbox = async (client: ImapFlow, work: () => Promise<void>) => {
    const lock = await client.getMailboxLock('INBOX');
    try {
      await work();
    } finally {
      lock.release();
    }
  };

  before(async () => {
    const tls = await makeSelfSignedCertificate(dir.path);
    certFile = tls.certFile;
    const master = { name: 'mmp', password: SECRET };
    [slapd, storeA, storeB] = await Promise.all([
      startSlapd(join(dir.path, 'slapd'), [...USERS, ...SITE_USERS]),
      startDovecot(join(dir.path, 'store-0'), {
        master,
        users: [
          { name: 'erin@example.test', inbox: ['erin on store-0'] },
          { name: 'hal@example.test', inbox: ['hal on store-0'] },
          { name: 'frank@example.test', inbox: ['frank on store-0 after the move'] },
        ],
      }),
      startDovecot(join(dir.path, 'store-1'), {
        master,
        // COMPRESS=DEFLATE after login (RFC 4978), for the test that it passes the splice.
        extraConfig: 'protocol imap {\n  mail_plugins = $mail_plugins imap_zlib\n}\n',
        users: [
          { name: 'frank@example.test', inbox: ['frank on store-1'] },
          { name: 'ida@example.test', inbox: ['ida on store-1'] },
        ],
      }),
    ]);
    imapCaps = await capabilitiesAfterLogin(storeA.imapPort, 'erin@example.test');
    const nobodyListens = await freePort();
    const deadDirectory = `ldap://127.0.0.1:${await freePort()}`;
    const stores = {
      [STORE(0)]: { imapPort: storeA.imapPort, pop3Port: storeA.pop3Port },
      [STORE(1)]: { imapPort: storeB.imapPort, pop3Port: storeB.pop3Port },
      [STORE(2)]: { imapPort: nobodyListens, pop3Port: nobodyListens },
    };
    const directory = directoryConfig(slapd, dir.path, {
      urls: [deadDirectory, slapd.url],
      cacheTTLSeconds: 60,
    });
    rendered = renderedMmpConfig('siroe');
    base = {
      directory,
      stores,
      tls,
      proxySecret: SECRET,
      imapCapabilities: imapCaps,
      pop3Capabilities: ['TOP', 'UIDL', 'RESP-CODES', 'PIPELINING', 'AUTH-RESP-CODE'],
    };
    mkdir(join(dir.path, 'mmp'));
    mkdir(join(dir.path, 'balanced'));
    [mmp, balanced] = await Promise.all([
      localize(rendered, { ...base, dir: join(dir.path, 'mmp') }).then((c) =>
        startMmpProcess(c, join(dir.path, 'mmp')),
      ),
      // Behind a "load balancer" at 127.0.0.1 (the test): PROXY v2 as rendered, BadGuy tightened.
      localize(rendered, {
        ...base,
        dir: join(dir.path, 'balanced'),
        proxyProtocolFrom: ['127.0.0.1/32'],
        limits: { badGuy: { freeFailures: 1, maxFailures: 3, decaySeconds: 60, penaltySeconds: 60 } },
      }).then((c) => startMmpProcess(c, join(dir.path, 'balanced'))),
    ]);
  });

  after(async () => {
    await Promise.all([mmp?.stop(), balanced?.stop()]);
    await Promise.all([slapd?.stop(), storeA?.stop(), storeB?.stop()]);
    dir.remove();
  });

  test('users on different stores land on their own (imaplib, by uid and by address)', async () => {
    const erin = await python(IMAPLIB_SUBJECT, [String(mmp.ports.imap), 'erin', 'erin-pw']);
    assert.equal(erin.stdout.trim(), 'Subject: erin on store-0', erin.stderr);
    const frank = await python(IMAPLIB_SUBJECT, [String(mmp.ports.imap), 'frank@example.test', 'frank pw']);
    assert.equal(frank.stdout.trim(), 'Subject: frank on store-1', frank.stderr);
    // Dovecot saw the client's address from the MMP's ID, and the master user acting for erin.
    assert.match(storeA.log(), /Master user logging in as erin@example\.test/);
  });

  test('POP3 through STLS (poplib) and implicit TLS (curl pop3s)', async () => {
    const pop = await python(POPLIB_SUBJECT, [String(mmp.ports.pop3), 'hal', 'hal-pw']);
    assert.equal(pop.stdout.trim(), '1 Subject: hal on store-0', pop.stderr);
    const curl = await run('curl', [
      '-sk',
      '--max-time',
      '20',
      '-u',
      'frank:frank pw',
      `pop3s://127.0.0.1:${mmp.ports.pop3s}/1`,
    ]);
    assert.equal(curl.code, 0, curl.stderr);
    assert.match(curl.stdout, /Subject: frank on store-1/);
  });

  test('IMAP over implicit TLS with curl and ImapFlow', async () => {
    const curl = await run('curl', [
      '-sk',
      '--max-time',
      '20',
      '-u',
      'erin:erin-pw',
      `imaps://127.0.0.1:${mmp.ports.imaps}/INBOX;UID=1`,
    ]);
    assert.equal(curl.code, 0, curl.stderr);
    assert.match(curl.stdout, /Subject: erin on store-0/);
    const client = await imapsSession('frank', 'frank pw');
    await inInbox(client, async () => {
      const message = await client.fetchOne('1', { envelope: true });
      assert.equal(message && message.envelope?.subject, 'frank on store-1');
    });
    await client.logout();
  });

  test('mbsync: pulls a mailbox through the MMP into a Maildir and pushes a new message back (APPEND)', async () => {
    const home = join(dir.path, 'mbsync');
    const maildir = join(home, 'mail');
    mkdirSync(maildir, { recursive: true });
    const config = join(home, 'mbsyncrc');
    // isync 1.4 checks the certificate (trusted by CertificateFile) for the host's DNS name, not an
    // IP address: the test certificate names localhost.
    writeFileSync(
      config,
      `IMAPAccount mmp
Host localhost
Port ${mmp.ports.imaps}
User ida
Pass ida-pw
SSLType IMAPS
CertificateFile ${certFile}

IMAPStore remote
Account mmp

MaildirStore local
Path ${maildir}/
Inbox ${maildir}/INBOX

Channel inbox
Far :remote:INBOX
Near :local:INBOX
Create Near
Sync All
SyncState *
`,
    );
    const sync = () => run('mbsync', ['-c', config, 'inbox'], { timeoutMs: 60_000 });
    const pulled = await sync();
    assert.equal(pulled.code, 0, pulled.stdout + pulled.stderr);
    const inbox = join(maildir, 'INBOX');
    const files = ['cur', 'new'].flatMap((d) => readdirSync(join(inbox, d)).map((f) => join(inbox, d, f)));
    assert.equal(files.length, 1, files.join());
    assert.match(readFileSync(files[0]!, 'utf8'), /Subject: ida on store-1/);
    // A message written locally goes up by APPEND (its literal passes the splice untouched).
    const text = 'line of text\r\n'.repeat(2000);
    const body = `From: ida@example.test\r\nSubject: from mbsync\r\n\r\n${text}`;
    writeFileSync(join(inbox, 'new', `${Date.now()}.mbsync-test.localhost`), body);
    const pushed = await sync();
    assert.equal(pushed.code, 0, pushed.stdout + pushed.stderr);
    const client = await imapsSession('ida', 'ida-pw');
    await inInbox(client, async () => {
      const message = await client.fetchOne('2', { source: true });
      assert.ok(message && message.source, 'a second message on the store');
      // mbsync may add its own X-TUID header; the rest arrives byte for byte.
      const source = message.source.toString('latin1');
      assert.match(source, /^Subject: from mbsync\r$/m);
      assert.ok(source.endsWith(`\r\n\r\n${text}`), `${source.length} bytes`);
    });
    await client.logout();
  });

  test('IDLE passes the splice: an ImapFlow client idling through the MMP hears of a message appended by another', async () => {
    const idler = await imapsSession('erin', 'erin-pw');
    await inInbox(idler, async () => {
      const before = (idler.mailbox as { exists: number }).exists;
      const heard = new Promise<number>((resolve) =>
        idler.on('exists', (e: { count: number }) => resolve(e.count)),
      );
      // IDLE (ImapFlow's promise settles when the IDLE ends). Whether the append comes before or
      // after the store has the IDLE, the EXISTS can only reach the idler as a response within it.
      const idling = idler.idle();
      const writer = await imapsSession('erin', 'erin-pw');
      await writer.append('INBOX', 'From: erin@example.test\r\nSubject: while idling\r\n\r\nhello\r\n');
      await writer.logout();
      const count = await Promise.race([
        heard,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('no EXISTS while idling')), 30_000),
        ),
      ]);
      assert.equal(count, before + 1);
      void idling.catch(() => undefined);
    });
    await idler.logout();
  });

  test('a 4 MiB FETCH to a client that reads in fits arrives byte for byte (the store side reads into reused buffers)', async () => {
    // Lines that differ from each other, so that a chunk written twice or overwritten shows.
    const lines = Array.from(
      { length: 60_000 },
      (_, i) => `${i.toString(36).padStart(8, '0')} ${'abcdefghij'.repeat(6)}\r\n`,
    );
    const body = `From: ida@example.test\r\nSubject: bulk\r\n\r\n${lines.join('')}`;
    const writer = await imapsSession('ida', 'ida-pw');
    const appended = await writer.append('INBOX', body);
    await writer.logout();
    assert.ok(appended && appended.uid, 'APPENDUID');
    // A raw client that stops reading for a while every 256 KiB: the MMP's writes to it then wait,
    // which is when a reused read buffer must not be read into again.
    const socket = connectTls({ port: mmp.ports.imaps!, host: '127.0.0.1', rejectUnauthorized: false });
    const chunks: Buffer[] = [];
    let received = 0;
    let sinceStop = 0;
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      sinceStop += chunk.length;
      if (sinceStop > 256 * 1024) {
        sinceStop = 0;
        socket.pause();
        setTimeout(() => socket.resume(), 50);
      }
    });
    const all = () => Buffer.concat(chunks).toString('latin1');
    await waitFor('the greeting', () => /^\* OK/.test(all()));
    socket.write(`a LOGIN ida ida-pw\r\nb SELECT INBOX\r\nc UID FETCH ${appended.uid} (BODY.PEEK[])\r\n`);
    await waitFor('the FETCH', () => /\r\nc OK /.test(all().slice(-200)), { timeoutMs: 60_000 });
    socket.write('d LOGOUT\r\n');
    socket.end();
    const text = all();
    const literal = /BODY\[\] \{(\d+)\}\r\n/.exec(text);
    assert.ok(literal, text.slice(0, 500));
    const start = literal.index + literal[0].length;
    assert.equal(Number(literal[1]), Buffer.byteLength(body));
    assert.ok(
      text.slice(start, start + Number(literal[1])) === body,
      `received ${received} bytes; the body differs`,
    );
  });

  test('COMPRESS=DEFLATE passes the splice: ImapFlow deflates its session with Dovecot through the MMP, bytes intact', async () => {
    // Compressible, and different line by line, so that a lost or repeated chunk shows.
    const lines = Array.from(
      { length: 16_000 },
      (_, i) => `${i.toString(36).padStart(6, '0')} ${'mail '.repeat(12)}\r\n`,
    );
    const body = `From: ida@example.test\r\nSubject: compressed\r\n\r\n${lines.join('')}`;
    const spliced = (direction: string) =>
      mmp.metric('mtopo_mmp_spliced_bytes_total', { protocol: 'imap', direction });
    const [toStore0, toClient0] = [await spliced('to-store'), await spliced('to-client')];
    const client = await imapsSession('ida', 'ida-pw');
    // The store's capabilities reach the client in its login answer: the MMP's own list lacks it.
    assert.ok(client.capabilities.has('COMPRESS=DEFLATE'), [...client.capabilities.keys()].join(' '));
    assert.ok((client as unknown as { _deflate?: unknown })._deflate, 'ImapFlow did not start COMPRESS');
    const appended = await client.append('INBOX', body);
    assert.ok(appended && appended.uid, 'APPENDUID');
    await inInbox(client, async () => {
      const message = await client.fetchOne(String(appended.uid), { source: true }, { uid: true });
      assert.ok(message && message.source?.toString('latin1') === body, 'the message came back changed');
    });
    await client.logout();
    // Counted when the session ends. Both ways the bytes that crossed the MMP were deflated: the
    // message went up in the APPEND and came down in the FETCH, each far below its size.
    await waitFor('the session to end', async () => (await spliced('to-client')) > toClient0);
    const up = (await spliced('to-store')) - toStore0;
    const down = (await spliced('to-client')) - toClient0;
    assert.ok(up < body.length / 4, `${up} bytes to the store for a ${body.length}-byte APPEND`);
    assert.ok(down < body.length / 4, `${down} bytes to the client for a ${body.length}-byte FETCH`);
  });

  test('a wrong password and an unknown user get the same AUTHENTICATIONFAILED, no sooner than the floor', async () => {
    const c = await RawClient.connect(mmp.ports.imap!);
    await c.expect(/^\* OK/);
    c.send('s STARTTLS\r\n');
    await c.expect(/s OK/);
    await c.startTls();
    for (const [tag, login] of [
      ['w', 'erin wrong-pw'],
      ['u', 'nosuchuser whatever'],
      ['x', '"*" whatever'],
    ] as const) {
      const started = performance.now();
      c.send(`${tag} LOGIN ${login}\r\n`);
      const reply = await c.expect(new RegExp(`${tag} NO`));
      assert.match(reply, new RegExp(`^${tag} NO \\[AUTHENTICATIONFAILED\\] Authentication failed\\r\\n$`));
      assert.ok(
        performance.now() - started >= 390,
        `${tag} answered after ${performance.now() - started} ms`,
      );
    }
    c.close();
  });

  test('a login in clear is refused with PRIVACYREQUIRED, and the greeting says LOGINDISABLED', async () => {
    const c = await RawClient.connect(mmp.ports.imap!);
    const greeting = await c.expect(/^\* OK.*\r\n/);
    assert.match(greeting, /STARTTLS LOGINDISABLED/);
    assert.doesNotMatch(greeting, /LOGIN-REFERRALS|AUTH=PLAIN/);
    // What Dovecot offers after login is advertised before it.
    assert.match(greeting, / IDLE /);
    c.send('a LOGIN erin erin-pw\r\n');
    assert.match(await c.expect(/a NO/), /a NO \[PRIVACYREQUIRED\]/);
    c.close();
  });

  test('a store that is down: NO [UNAVAILABLE] and -ERR [SYS/TEMP], never a hang', async () => {
    const imap = await python(IMAPLIB_SUBJECT, [String(mmp.ports.imap), 'gina', 'gina-pw']);
    assert.match(imap.stdout, /LOGIN-FAILED.*\[UNAVAILABLE\]/);
    const pop = await python(POPLIB_SUBJECT, [String(mmp.ports.pop3), 'gina', 'gina-pw']);
    assert.match(pop.stdout, /LOGIN-FAILED.*\[SYS\/TEMP\]/);
  });

  test('one directory URL down: every login fails over to the next', async () => {
    assert.ok(
      (await mmp.metric('mtopo_directory_request_duration_seconds_count', {
        operation: 'service-bind',
        outcome: 'error',
      })) >= 1,
    );
    assert.ok((await mmp.metric('mtopo_mmp_logins_total', { outcome: 'ok' })) >= 1);
  });

  test('hostile input before login: unknown commands, an overlong line, a huge literal', async () => {
    const c = await RawClient.connect(mmp.ports.imap!);
    await c.expect(/^\* OK/);
    c.send('a SELECT INBOX\r\n');
    assert.match(await c.expect(/a BAD/), /a BAD Unknown command or not valid before login/);
    c.send(`b LOGIN ${'x'.repeat(20_000)}\r\n`);
    assert.match(await c.expect(/b BAD/), /b BAD Command line too long/);
    c.send('c LOGIN erin {999999}\r\n');
    assert.match(await c.expect(/c BAD/), /c BAD \[TOOBIG\] Literal over the limit of 4096 bytes/);
    c.send('d NOOP\r\n');
    await c.expect(/d OK NOOP completed/);
    c.close();
  });

  test('commands pipelined after STARTTLS are discarded (no command injection)', async () => {
    const c = await RawClient.connect(mmp.ports.imap!);
    await c.expect(/^\* OK/);
    c.send('a STARTTLS\r\nb CAPABILITY\r\n');
    const reply = await c.expect(/a OK Begin TLS/);
    assert.doesNotMatch(reply, /b OK/);
    await c.startTls();
    c.send('c NOOP\r\n');
    const after = await c.expect(/c OK/);
    assert.doesNotMatch(after, /b OK|CAPABILITY/);
    c.close();
  });

  test('a PROXY header from an untrusted peer is refused; from the balancer its client is believed', async () => {
    const spoofer = await RawClient.connect(balanced.ports.imap!, '127.0.0.2');
    spoofer.send(proxyV2('203.0.113.66', 40000));
    await waitFor('the untrusted peer to be cut off', () => spoofer.closed, 10_000);
    // The log arrives through the program's stdout pipe, after the socket's end: wait for it.
    await waitFor(
      'the refusal in the log',
      () =>
        balanced
          .logs()
          .some(
            (l) =>
              l.msg === 'connection refused: this peer may not send a PROXY header' && l.peer === '127.0.0.2',
          ),
      10_000,
    );

    const c = await RawClient.connect(balanced.ports.imap!);
    c.send(proxyV2('203.0.113.10', 40001));
    await c.expect(/^\* OK/);
    c.send('a STARTTLS\r\n');
    await c.expect(/a OK/);
    await c.startTls();
    c.send('b LOGIN erin erin-pw\r\n');
    await c.expect(/b OK/);
    c.send('c LOGOUT\r\n');
    await c.expect(/c OK/);
    c.close();
    await waitFor(
      'the login logged with the client the balancer named',
      () => balanced.logs().some((l) => l.msg === 'logged in' && l.client === '203.0.113.10'),
      10_000,
    );
    // Dovecot was told the real client too (ID x-originating-ip from a trusted network).
    await waitFor(
      'Dovecot to log the client address',
      () => /rip=203\.0\.113\.10/.test(storeA.log()),
      10_000,
    );
  });

  test('commands pipelined behind LOGIN reach the store after it, under the client tags', async () => {
    const c = await RawClient.connect(mmp.ports.imap!);
    await c.expect(/^\* OK/);
    c.send('a STARTTLS\r\n');
    await c.expect(/a OK/);
    await c.startTls();
    c.send(
      'b LOGIN erin erin-pw\r\nc SELECT INBOX\r\nd FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\ne LOGOUT\r\n',
    );
    const transcript = await c.expect(/e OK/);
    assert.match(transcript, /^b OK /m);
    assert.match(transcript, /^c OK \[READ-WRITE\]/m);
    assert.match(transcript, /Subject: erin on store-0/);
    c.close();
  });

  test('implicit TLS behind the balancer: the PROXY header comes before the handshake', async () => {
    const raw = connectTcp({ port: balanced.ports.imaps!, host: '127.0.0.1' });
    await new Promise((resolve) => raw.once('connect', resolve));
    raw.write(proxyV2('203.0.113.11', 40003));
    const secure = connectTls({ socket: raw, rejectUnauthorized: false });
    await new Promise((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    const c = new RawClient(secure);
    await c.expect(/^\* OK .*AUTH=PLAIN/);
    c.send('a LOGIN erin erin-pw\r\n');
    await c.expect(/a OK/);
    c.close();
    await waitFor('the login to be logged with the client address', () =>
      balanced.logs().some((l) => l.msg === 'logged in' && l.client === '203.0.113.11'),
    );
  });

  test('one client address may hold only so many connections', async () => {
    const limit = balanced.config.listeners.find((l) => l.name === 'imap')!.maxConnectionsPerClient;
    const held: RawClient[] = [];
    for (let i = 0; i < limit; i++) {
      const c = await RawClient.connect(balanced.ports.imap!);
      c.send(proxyV2('203.0.113.77', 41000 + i));
      await c.expect(/^\* OK/);
      held.push(c);
    }
    const extra = await RawClient.connect(balanced.ports.imap!);
    extra.send(proxyV2('203.0.113.77', 42000));
    assert.match(await extra.expect(/BYE/), /^\* BYE \[LIMIT\] Too many connections from your address/);
    await waitFor('the extra connection to be closed', () => extra.closed, 5000);
    // Another address is not affected.
    const other = await RawClient.connect(balanced.ports.imap!);
    other.send(proxyV2('203.0.113.78', 42001));
    await other.expect(/^\* OK/);
    for (const c of [...held, other]) c.close();
  });

  test('BadGuy: failures from one address are delayed, then locked out even with the right password', async () => {
    const c = await RawClient.connect(balanced.ports.imap!);
    c.send(proxyV2('203.0.113.50', 40002));
    await c.expect(/^\* OK/);
    c.send('a STARTTLS\r\n');
    await c.expect(/a OK/);
    await c.startTls();
    for (const tag of ['f1', 'f2', 'f3']) {
      c.send(`${tag} LOGIN hal wrong\r\n`);
      assert.match(await c.expect(new RegExp(`${tag} NO`), 30_000), /\[AUTHENTICATIONFAILED\]/);
    }
    c.send('ok LOGIN hal hal-pw\r\n');
    assert.match(await c.expect(/ok NO/, 30_000), /ok NO \[UNAVAILABLE\] Too many failed logins/);
    c.close();
    assert.ok((await balanced.metric('mtopo_mmp_logins_total', { outcome: 'locked-out' })) >= 1);
  });

  test('a mailHost change: end-sessions closes the user’s session, the next login lands on the new store', async () => {
    const client = imapsClient('frank', 'frank pw');
    let closed = false;
    client.on('close', () => (closed = true));
    client.on('error', () => undefined);
    await client.connect();
    await client.mailboxOpen('INBOX');
    await slapd.modify(
      `dn: uid=frank,ou=people,${slapd.suffix}\nchangetype: modify\nreplace: mailHost\nmailHost: siroe-store-0\n`,
    );
    assert.equal(await mmp.endSessions('frank'), 'ended 1 session of frank');
    await waitFor('the old session to be closed', () => closed, 10_000);
    const again = await python(IMAPLIB_SUBJECT, [String(mmp.ports.imap), 'frank', 'frank pw']);
    assert.equal(again.stdout.trim(), 'Subject: frank on store-0 after the move', again.stderr);
  });

  test('the sessions gauge counts a session before login, then as proxied, and not once it has ended', async () => {
    const gauge = async () => ({
      preLogin: await mmp.metric('mtopo_mmp_sessions', { protocol: 'imap', phase: 'pre-login' }),
      proxied: await mmp.metric('mtopo_mmp_sessions', { protocol: 'imap', phase: 'proxied' }),
    });
    const counted = (preLogin: number, proxied: number) => async () => {
      const now = await gauge();
      return now.preLogin === preLogin && now.proxied === proxied;
    };
    // The earlier tests' sessions have ended (their clients logged out or were closed).
    await waitFor('no IMAP session open', counted(0, 0), 10_000);
    const c = await RawClient.connect(mmp.ports.imap!);
    await c.expect(/^\* OK.*\r\n/);
    await waitFor('one session before login', counted(1, 0), 10_000);
    c.send('a STARTTLS\r\n');
    await c.expect(/^a OK.*\r\n/m);
    await c.startTls();
    c.send('b LOGIN ida ida-pw\r\n');
    await c.expect(/^b OK.*\r\n/m);
    await waitFor('one proxied session', counted(0, 1), 10_000);
    c.send('c LOGOUT\r\n');
    await c.expect(/^c OK.*\r\n/m);
    await waitFor('no session left', counted(0, 0), 10_000);
  });

  test('SIGTERM: spliced sessions go on through the grace period, no new client is taken, the last is cut at its end', async () => {
    // An MMP of its own, since this one stops; a grace long enough for the steps below on a busy
    // machine, short enough for the suite.
    const GRACE_SECONDS = 6;
    const drainDir = join(dir.path, 'draining');
    const config = await localize(rendered, { ...base, dir: drainDir });
    const draining = await startMmpProcess(
      { ...config, common: { ...config.common, drainSeconds: GRACE_SECONDS } },
      drainDir,
    );
    try {
      await drainsSplicedSessions(draining, GRACE_SECONDS);
    } finally {
      // A failure above must not leave the program running.
      if (draining.process.running) draining.process.signal('SIGKILL');
    }
  });
});

/** The drain test's steps: two sessions spliced, SIGTERM, one logs out, the other is cut at the end. */
async function drainsSplicedSessions(draining: MmpProcess, graceSeconds: number): Promise<void> {
  const loggedIn = async (user: string, pass: string) => {
    const c = await RawClient.connect(draining.ports.imap!);
    await c.expect(/^\* OK.*\r\n/);
    c.send('a STARTTLS\r\n');
    await c.expect(/^a OK.*\r\n/m);
    await c.startTls();
    c.send(`b LOGIN ${user} ${pass}\r\n`);
    await c.expect(/^b OK.*\r\n/m);
    return c;
  };
  const leaving = await loggedIn('erin', 'erin-pw');
  const staying = await loggedIn('ida', 'ida-pw');
  const signalled = Date.now();
  draining.process.signal('SIGTERM');
  await waitFor('the listener to stop taking clients', async () => {
    const refused = await RawClient.connect(draining.ports.imap!).then(
      (c) => (c.close(), false),
      (error: NodeJS.ErrnoException) => error.code === 'ECONNREFUSED',
    );
    return refused;
  });
  // Both splices still carry commands and their answers, which come from the store.
  leaving.send('c NOOP\r\n');
  assert.match(await leaving.expect(/^c OK.*\r\n/m), /^c OK/m);
  staying.send('c SELECT INBOX\r\n');
  assert.match(await staying.expect(/^c OK.*\r\n/m), /^\* \d+ EXISTS/m);
  // A client that logs out leaves as it would any day: Dovecot's BYE and OK, then the close.
  leaving.send('d LOGOUT\r\n');
  assert.match(await leaving.expect(/^d OK.*\r\n/m), /^\* BYE/m);
  await waitFor('the leaving session to close', () => leaving.closed);
  assert.equal(staying.closed, false, 'the other session was cut before its grace period ended');
  // The one that stays is cut when the grace period ends (the MMP cannot say BYE into a splice: it
  // does not parse it), and only then does the program exit, with 0.
  await waitFor('the staying session to be cut', () => staying.closed, (graceSeconds + 30) * 1000);
  const cutAfterMs = Date.now() - signalled;
  assert.ok(cutAfterMs >= graceSeconds * 1000 - 100, `cut ${cutAfterMs} ms after SIGTERM`);
  assert.equal(await draining.process.exitStatus, 0);
  const ended = draining.logs().filter((l) => l.msg === 'session ended');
  assert.deepEqual(ended.map((l) => l.user).sort(), ['erin@example.test', 'ida@example.test']);
}

describe('the MMP with no directory to ask', () => {
  const dir = makeTempDir('mmp-nodir');
  let mmp: MmpProcess;
  let store: Dovecot;

  before(async () => {
    const tls = await makeSelfSignedCertificate(dir.path);
    store = await startDovecot(join(dir.path, 'store'), {
      master: { name: 'mmp', password: SECRET },
      users: [{ name: 'erin@example.test' }],
    });
    const rendered = renderedMmpConfig('siroe');
    const stores = Object.fromEntries(
      [0, 1, 2].map((i) => [STORE(i), { imapPort: store.imapPort, pop3Port: store.pop3Port }]),
    );
    const fakeSlapd = {
      serviceDN: 'cn=mtopo,ou=services,dc=example,dc=test',
      servicePassword: 'x',
      url: `ldap://127.0.0.1:${await freePort()}`,
      suffix: 'dc=example,dc=test',
    } as Slapd;
    const directory = directoryConfig(fakeSlapd, dir.path, {
      urls: [`ldap://127.0.0.1:${await freePort()}`, `ldap://127.0.0.1:${await freePort()}`],
    });
    const config = await localize(rendered, { dir: dir.path, directory, stores, tls, proxySecret: SECRET });
    mmp = await startMmpProcess(config, dir.path);
  });

  after(async () => {
    await mmp?.stop();
    await store?.stop();
    dir.remove();
  });

  test('directory down: NO [UNAVAILABLE] and -ERR [SYS/TEMP], never AUTHENTICATIONFAILED', async () => {
    const imap = await python(IMAPLIB_SUBJECT, [String(mmp.ports.imap), 'erin', 'erin-pw']);
    assert.match(imap.stdout, /LOGIN-FAILED.*\[UNAVAILABLE\] Cannot check your login now/);
    const pop = await python(POPLIB_SUBJECT, [String(mmp.ports.pop3), 'erin', 'erin-pw']);
    assert.match(pop.stdout, /LOGIN-FAILED.*\[SYS\/TEMP\]/);
  });

  test('SIGTERM: a session before login is told BYE at once, and the program exits 0', async () => {
    const c = await RawClient.connect(mmp.ports.imap!);
    await c.expect(/^\* OK/);
    mmp.process.signal('SIGTERM');
    assert.match(await c.expect(/BYE/), /^\* BYE \[UNAVAILABLE\] Server shutting down; reconnect\r\n/);
    assert.equal(await mmp.process.exitStatus, 0);
  });
});

function mkdir(path: string) {
  mkdirSync(path, { recursive: true });
}
