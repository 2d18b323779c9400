// POP3 transcripts against the real engine on a temp dir.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../lib/log.ts';
import { startStoreFixture, type StoreFixture } from '../testing/store-fixture.ts';
import { Pop3Session } from './session.ts';

let fixture: StoreFixture;
let port: number;
const SECRET = 'shared secret';
const b64 = (s: string) => Buffer.from(s).toString('base64');
/** The sessions' log lines, parsed. */
const logged: Record<string, unknown>[] = [];
const logger = createLogger({
  program: 'store-test',
  level: 'info',
  destination: new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        logged.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  }),
});

before(async () => {
  fixture = await startStoreFixture('pop3');
  const popSessions = new Map<string, number>();
  port = await fixture.serve((conn) =>
    new Pop3Session(conn, {
      store: fixture.store,
      hostname: 'store-0.test',
      login: ({ authzid, authcid, password }) =>
        authcid === 'mmp' && password === SECRET && authzid
          ? { ok: true, user: authzid }
          : { ok: false, reason: 'no' },
      tls: undefined,
      logger,
      popSessions,
    }).run(),
  );
});
after(() => fixture.close());

/** A raw POP3 client: sends lines as given, reads single-line and multi-line replies. */
class Pop3Transcript {
  #socket: Socket;
  #buffer = '';
  greeting = '';
  #waiter: (() => void) | undefined;
  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.#buffer += d;
      this.#waiter?.();
    });
    socket.on('close', () => this.#waiter?.());
  }
  static async open() {
    const socket = connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    const t = new Pop3Transcript(socket);
    t.greeting = await t.line();
    assert.match(t.greeting, /^\+OK/);
    return t;
  }
  async #until(find: () => number): Promise<number> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const at = find();
      if (at >= 0) return at;
      if (this.#socket.destroyed || Date.now() > deadline)
        throw new Error(`no reply; unread ${JSON.stringify(this.#buffer)}`);
      await new Promise<void>((r) => {
        this.#waiter = r;
        setTimeout(r, 100);
      });
    }
  }
  async line(): Promise<string> {
    const at = await this.#until(() => this.#buffer.indexOf('\r\n'));
    const line = this.#buffer.slice(0, at);
    this.#buffer = this.#buffer.slice(at + 2);
    return line;
  }
  async multi(): Promise<string> {
    const at = await this.#until(() =>
      this.#buffer.startsWith('.\r\n') ? 0 : this.#buffer.indexOf('\r\n.\r\n'),
    );
    const end = at === 0 ? 3 : at + 5;
    const body = this.#buffer.slice(0, at === 0 ? 0 : at + 2);
    this.#buffer = this.#buffer.slice(end);
    return body;
  }
  async command(line: string) {
    this.#socket.write(`${line}\r\n`);
    return this.line();
  }
  write(s: string) {
    this.#socket.write(s);
  }
  get closed() {
    return this.#socket.destroyed;
  }
  close() {
    this.#socket.destroy();
  }
}

async function deliver(user: string, text: string) {
  await fixture.store.deliver({ source: Buffer.from(text), recipients: [user], sender: '' });
}

describe('POP3 session', () => {
  it('lists its capabilities before login, and only PLAIN', async () => {
    const t = await Pop3Transcript.open();
    assert.match(await t.command('CAPA'), /^\+OK/);
    const caps = (await t.multi()).split('\r\n').filter(Boolean);
    for (const c of ['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING', 'USER', 'SASL PLAIN'])
      assert.ok(caps.includes(c), c);
    assert.match(await t.command('AUTH CRAM-MD5'), /^-ERR/);
    assert.match(await t.command('QUIT'), /^\+OK/);
    t.close();
  });

  it('refuses every transaction command before login and a wrong secret with [AUTH]', async () => {
    const t = await Pop3Transcript.open();
    for (const c of ['STAT', 'LIST', 'RETR 1', 'DELE 1', 'UIDL', 'TOP 1 0', 'RSET', 'NOOP'])
      assert.match(await t.command(c), /^-ERR/, c);
    assert.match(await t.command('PASS x'), /^-ERR USER first/);
    await t.command('USER alice@siroe.example*mmp');
    assert.equal(await t.command('PASS wrong'), '-ERR [AUTH] Authentication failed');
    assert.equal(
      await t.command(`AUTH PLAIN ${b64('\0mmp\0' + SECRET)}`),
      '-ERR [AUTH] Authentication failed',
      'the proxy must name a user',
    );
    t.close();
  });

  it('offers XCLIENT and takes the address the MMP names, once the login proves it is the MMP', async () => {
    const mmp = await Pop3Transcript.open();
    assert.match(mmp.greeting, /^\+OK \[XCLIENT\] /);
    // The MMP's order (images/mmp/store-login): XCLIENT, then AUTH PLAIN with the initial response.
    assert.match(await mmp.command('XCLIENT ADDR=192.0.2.7 PORT=50123 SESSION=abc'), /^\+OK/);
    assert.match(await mmp.command(`AUTH PLAIN ${b64(`ida@siroe.example\0mmp\0${SECRET}`)}`), /^\+OK/);
    assert.match(await mmp.command('QUIT'), /^\+OK/);
    mmp.close();
    // Anyone else names an address and fails to log in: the log keeps the socket's.
    const other = await Pop3Transcript.open();
    assert.match(await other.command('XCLIENT ADDR=198.51.100.9'), /^\+OK/);
    await other.command(`AUTH PLAIN ${b64(`ida@siroe.example\0mmp\0wrong`)}`);
    assert.match(await other.command('XCLIENT ADDR=not-an-address'), /^-ERR/);
    assert.match(await other.command('XCLIENT ADDR'), /^-ERR/);
    other.close();
    const login = logged.find((l) => l.msg === 'POP3 login' && l.user === 'ida@siroe.example');
    assert.equal(login?.client, '192.0.2.7', JSON.stringify(logged));
    const refused = logged.filter((l) => l.msg === 'POP3 login refused').at(-1);
    assert.equal(refused?.client, '127.0.0.1', JSON.stringify(logged));
  });

  it('logs in with AUTH PLAIN, lists, retrieves dot-stuffed, TOPs and UIDLs', async () => {
    const user = 'hanna@siroe.example';
    await deliver(user, 'Subject: one\r\n\r\n.leading dot\r\nline 2\r\nline 3\r\n');
    await deliver(user, 'Subject: two\r\n\r\nbody\r\n');
    const t = await Pop3Transcript.open();
    assert.match(await t.command('AUTH PLAIN'), /^\+ /);
    assert.match(await t.command(b64(`${user}\0mmp\0${SECRET}`)), /^\+OK Logged in, 2 messages/);
    assert.match(await t.command('STAT'), /^\+OK 2 \d+$/);
    assert.match(await t.command('LIST'), /^\+OK/);
    assert.match(await t.multi(), /^1 \d+\r\n2 \d+\r\n$/);
    assert.match(await t.command('RETR 1'), /^\+OK/);
    assert.equal(await t.multi(), 'Subject: one\r\n\r\n..leading dot\r\nline 2\r\nline 3\r\n');
    assert.match(await t.command('TOP 1 1'), /^\+OK/);
    assert.equal(await t.multi(), 'Subject: one\r\n\r\n..leading dot\r\n');
    assert.match(await t.command('UIDL'), /^\+OK/);
    const uidl = await t.multi();
    assert.match(uidl, /^1 \d+\.1\r\n2 \d+\.2\r\n$/);
    assert.match(await t.command('UIDL 2'), /^\+OK 2 \d+\.2$/);
    assert.match(await t.command('RETR 3'), /^-ERR/);
    assert.match(await t.command('QUIT'), /^\+OK/);
    t.close();
  });

  it('expunges at QUIT only, visibly to an IMAP-style view, and marks retrieved messages \\Seen', async () => {
    const user = 'ivan@siroe.example';
    for (const s of ['a', 'b', 'c']) await deliver(user, `Subject: ${s}\r\n\r\n${s}\r\n`);
    const account = await fixture.store.openAccount(user);
    const imap = await account.openMailbox('INBOX', { readOnly: false });

    const dropped = await Pop3Transcript.open();
    await dropped.command('USER ivan@siroe.example*mmp');
    assert.match(await dropped.command(`PASS ${SECRET}`), /^\+OK/);
    assert.match(await dropped.command('DELE 1'), /^\+OK/);
    dropped.close(); // no QUIT: nothing is deleted (RFC 1939 §6)
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await account.status('INBOX')).messages, 3);

    const t = await Pop3Transcript.open();
    // Pipelined: every command in one write.
    t.write(
      `USER ivan@siroe.example*mmp\r\nPASS ${SECRET}\r\nDELE 1\r\nDELE 3\r\nDELE 1\r\nSTAT\r\nRETR 2\r\n`,
    );
    assert.match(await t.line(), /^\+OK Send PASS/);
    assert.match(await t.line(), /^\+OK Logged in, 3 messages/);
    assert.match(await t.line(), /^\+OK/);
    assert.match(await t.line(), /^\+OK/);
    assert.match(await t.line(), /^-ERR/, 'a deleted message cannot be named again');
    assert.match(await t.line(), /^\+OK 1 /);
    assert.match(await t.line(), /^\+OK/);
    assert.equal(await t.multi(), 'Subject: b\r\n\r\nb\r\n');
    assert.match(await t.command('QUIT'), /^\+OK .*\(1 messages left\)/);
    t.close();
    const changes = imap.takeChanges().changes;
    assert.deepEqual(
      changes.filter((c) => c.kind === 'expunge').map((c) => c.kind === 'expunge' && c.uids),
      [[1, 3]],
    );
    assert.ok(changes.some((c) => c.kind === 'flags' && c.uid === 2 && c.flags.includes('\\Seen')));
    account.close();
  });

  it('lets one POP3 session hold a maildrop at a time: [IN-USE]', async () => {
    const first = await Pop3Transcript.open();
    await first.command('USER judy@siroe.example*mmp');
    assert.match(await first.command(`PASS ${SECRET}`), /^\+OK/);
    const second = await Pop3Transcript.open();
    await second.command('USER judy@siroe.example*mmp');
    assert.equal(
      await second.command(`PASS ${SECRET}`),
      '-ERR [IN-USE] Another POP3 session holds this maildrop',
    );
    await first.command('QUIT');
    await second.command('USER judy@siroe.example*mmp');
    assert.match(await second.command(`PASS ${SECRET}`), /^\+OK/);
    first.close();
    second.close();
  });

  it('refuses bad syntax, overlong lines and closes after too many errors', async () => {
    const t = await Pop3Transcript.open();
    assert.match(await t.command('LIST\nSTAT'), /^-ERR Syntax/);
    assert.match(await t.command(`NOOP ${'x'.repeat(300)}`), /^-ERR Line too long/);
    assert.match(await t.command('RETR x'), /^-ERR/);
    for (let i = 0; i < 16; i++) await t.command('BOGUS');
    assert.match(await t.command('BOGUS'), /^-ERR/);
    assert.equal(await t.line(), '-ERR Too many errors, closing');
    t.close();
  });
});
