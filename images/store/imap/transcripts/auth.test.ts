// Who may log in and what each state allows: transcripts on the real engine.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  PROXY_IDENTITY,
  PROXY_SECRET,
  plainLogin,
  startImapFixture,
  TranscriptClient,
  type ImapFixture,
} from '../testing/imap-fixture.ts';

let fx: ImapFixture;
before(async () => (fx = await startImapFixture()));
after(async () => fx?.stop());

const tagged = (lines: string[]) => lines.at(-1)!;

describe('IMAP login: only the MMP, for a user', () => {
  it('accepts AUTHENTICATE PLAIN with an initial response (SASL-IR) and says the new capabilities', async () => {
    const c = await TranscriptClient.connect(fx.port);
    const reply = tagged(await c.command(`a AUTHENTICATE PLAIN ${plainLogin('alice@example.test')}`));
    assert.match(reply, /^a OK \[CAPABILITY [^\]]*IDLE[^\]]*\] Logged in$/);
    c.close();
  });

  it('accepts AUTHENTICATE PLAIN after a continuation', async () => {
    const c = await TranscriptClient.connect(fx.port);
    c.write('a AUTHENTICATE PLAIN\r\n');
    assert.equal(await c.readLine(), '+ ');
    c.write(`${plainLogin('bob@example.test')}\r\n`);
    assert.match(await c.readLine(), /^a OK /);
    c.close();
  });

  it('accepts LOGIN with user*proxy and the shared secret', async () => {
    const c = await TranscriptClient.connect(fx.port);
    assert.match(
      tagged(await c.command(`a LOGIN "carol@example.test*${PROXY_IDENTITY}" "${PROXY_SECRET}"`)),
      /^a OK /,
    );
    c.close();
  });

  it('refuses a wrong secret, another identity, a missing user, and a bare user login', async () => {
    const c = await TranscriptClient.connect(fx.port);
    for (const [line, what] of [
      [`a AUTHENTICATE PLAIN ${plainLogin('alice@example.test', 'wrong')}`, 'wrong secret'],
      [
        `b AUTHENTICATE PLAIN ${Buffer.from(`alice@example.test\0alice@example.test\0${PROXY_SECRET}`).toString('base64')}`,
        'user as authcid',
      ],
      [
        `c AUTHENTICATE PLAIN ${Buffer.from(`\0${PROXY_IDENTITY}\0${PROXY_SECRET}`).toString('base64')}`,
        'no authzid',
      ],
      [`d LOGIN alice@example.test ${PROXY_SECRET}`, 'LOGIN without proxy'],
    ] as const) {
      const tag = line[0];
      assert.equal(
        tagged(await c.command(line)),
        `${tag} NO [AUTHENTICATIONFAILED] Authentication failed`,
        what,
      );
    }
    assert.match(tagged(await c.command('e AUTHENTICATE CRAM-MD5')), /^e NO \[CANNOT\]/);
    assert.match(tagged(await c.command('f AUTHENTICATE PLAIN !!!')), /^f BAD /);
    c.close();
  });

  it('refuses STARTTLS where the listener has no certificate', async () => {
    const c = await TranscriptClient.connect(fx.port);
    assert.match(tagged(await c.command('a STARTTLS')), /^a NO /);
    assert.doesNotMatch((await c.command('b CAPABILITY'))[0]!, /STARTTLS/);
    c.close();
  });

  it('takes the x-originating-ip the MMP sends before it logs in, once the login proves it is the MMP', async () => {
    const lines: { message: string; fields: Record<string, unknown> }[] = [];
    const record = (fields: Record<string, unknown>, message: string) => lines.push({ message, fields });
    const logged = await startImapFixture({ log: { info: record, warn: record } });
    try {
      // The MMP's order (images/mmp/store-login): ID first, then AUTHENTICATE, pipelined.
      const mmp = await TranscriptClient.connect(logged.port);
      assert.equal(tagged(await mmp.command('M1 ID ("x-originating-ip" "192.0.2.7")')), 'M1 OK ID completed');
      assert.match(
        tagged(await mmp.command(`M2 AUTHENTICATE PLAIN ${plainLogin('alice@example.test')}`)),
        /^M2 OK/,
      );
      mmp.close();
      // A client that is not the MMP claims an address, then fails to log in: its own address stays.
      const other = await TranscriptClient.connect(logged.port);
      await other.command('a ID ("x-originating-ip" "198.51.100.9")');
      assert.match(
        tagged(await other.command(`b LOGIN "alice@example.test*${PROXY_IDENTITY}" "wrong"`)),
        /^b NO/,
      );
      other.close();
      const login = lines.find((l) => l.message === 'IMAP login');
      assert.equal(login?.fields.client, '192.0.2.7', JSON.stringify(lines));
      const refused = lines.find((l) => l.message === 'IMAP login refused');
      assert.equal(refused?.fields.client, '127.0.0.1', JSON.stringify(lines));
      assert.ok(!lines.some((l) => /x-originating-ip/.test(l.message)), JSON.stringify(lines));
    } finally {
      await logged.stop();
    }
  });

  it('believes ID x-originating-ip only after the proxy logged in', async () => {
    const c = await TranscriptClient.connect(fx.port);
    const before = await c.command('a ID ("x-originating-ip" "192.0.2.1")');
    assert.deepEqual(before, ['* ID ("name" "mtopo-store" "vendor" "mtopo")', 'a OK ID completed']);
    assert.match(
      tagged(await c.command(`b AUTHENTICATE PLAIN ${plainLogin('alice@example.test')}`)),
      /^b OK/,
    );
    assert.equal(
      tagged(await c.command('c ID ("name" "mmp" "x-originating-ip" "198.51.100.7")')),
      'c OK ID completed',
    );
    assert.match(tagged(await c.command('d ID ("odd")')), /^d BAD/);
    c.close();
  });
});

describe('IMAP states: every command in a wrong state is refused with BAD', () => {
  const selectedOnly = [
    'CHECK',
    'CLOSE',
    'UNSELECT',
    'EXPUNGE',
    'UID EXPUNGE 1',
    'SEARCH ALL',
    'UID SEARCH ALL',
    'FETCH 1 FLAGS',
    'UID FETCH 1 FLAGS',
    'STORE 1 +FLAGS (\\Seen)',
    'UID STORE 1 FLAGS ()',
    'COPY 1 INBOX',
    'UID COPY 1 INBOX',
    'MOVE 1 INBOX',
    'UID MOVE 1 INBOX',
  ];
  const authenticatedOnly = [
    'SELECT INBOX',
    'EXAMINE INBOX',
    'CREATE x',
    'DELETE x',
    'RENAME x y',
    'SUBSCRIBE x',
    'UNSUBSCRIBE x',
    'LIST "" *',
    'LSUB "" *',
    'STATUS INBOX (MESSAGES)',
    'APPEND INBOX {1+}\r\nx',
    'IDLE',
    'ENABLE CONDSTORE',
    'NAMESPACE',
    'GETQUOTAROOT INBOX',
    'GETQUOTA ""',
    'COMPRESS DEFLATE',
  ];

  it('before login', async () => {
    const c = await TranscriptClient.connect(fx.port);
    let n = 0;
    for (const command of [...selectedOnly, ...authenticatedOnly]) {
      const tag = `t${n++}`;
      const reply = tagged(await c.command(`${tag} ${command}`));
      assert.match(reply, new RegExp(`^${tag} BAD .* is not valid before login$`), command);
      if (n % 15 === 0) await c.command('n NOOP'); // a good command resets the count of bad ones
    }
    c.close();
  });

  it('after login, without a selected mailbox', async () => {
    const c = await TranscriptClient.login(fx.port);
    let n = 0;
    for (const command of [
      ...selectedOnly,
      'LOGIN a b',
      `AUTHENTICATE PLAIN ${plainLogin('x')}`,
      'STARTTLS',
    ]) {
      const tag = `t${n++}`;
      const reply = tagged(await c.command(`${tag} ${command}`));
      assert.match(reply, new RegExp(`^${tag} BAD `), command);
      if (n % 15 === 0) await c.command('n NOOP');
    }
    c.close();
  });

  it('with a mailbox selected, login and STARTTLS', async () => {
    const c = await TranscriptClient.login(fx.port);
    await c.command('s SELECT INBOX');
    for (const [i, command] of ['LOGIN a b', `AUTHENTICATE PLAIN ${plainLogin('x')}`, 'STARTTLS'].entries()) {
      assert.match(
        tagged(await c.command(`t${i} ${command}`)),
        new RegExp(`^t${i} BAD .* is not valid with a mailbox selected$`),
      );
    }
    c.close();
  });

  it('refuses unknown commands and wrong arity with BAD and a reason', async () => {
    const c = await TranscriptClient.login(fx.port);
    assert.equal(tagged(await c.command('a FROB')), 'a BAD Unknown command FROB');
    assert.equal(tagged(await c.command('b SELECT')), 'b BAD SELECT: Missing argument: mailbox');
    assert.equal(tagged(await c.command('c RENAME a b c')), 'c BAD RENAME: Too many arguments');
    assert.equal(tagged(await c.command('d NOOP extra')), 'd BAD NOOP: Too many arguments');
    c.close();
  });
});

/** A raw connection that keeps each read apart: which answers came in one write. */
async function rawSession(
  port: number,
): Promise<{ socket: Socket; chunks: string[]; seen: (re: RegExp) => Promise<string> }> {
  const socket = connect(port, '127.0.0.1');
  const chunks: string[] = [];
  const waiters: (() => void)[] = [];
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk.toString('latin1'));
    for (const w of waiters.splice(0)) w();
  });
  const seen = async (re: RegExp) => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const chunk = chunks.find((c) => re.test(c));
      if (chunk !== undefined) return chunk;
      if (Date.now() > deadline) throw new Error(`no ${re} in ${JSON.stringify(chunks)}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  };
  await seen(/^\* OK /);
  chunks.length = 0;
  return { socket, chunks, seen };
}

describe('IMAP pipelining: answers to commands that came together go out together', () => {
  it("answers the MMP's ID and AUTHENTICATE in one write, though the login opens the account over several turns", async () => {
    const s = await rawSession(fx.port);
    s.socket.write(
      `m1 ID ("x-originating-ip" "198.51.100.7")\r\nm2 AUTHENTICATE PLAIN ${plainLogin('dave@example.test')}\r\n`,
    );
    const answer = await s.seen(/^m2 OK /m);
    assert.match(answer, /^m1 OK /m, `reads: ${JSON.stringify(s.chunks)}`);
    s.socket.destroy();
  });

  it('still sends a continuation the client waits for (IDLE behind a NOOP), then answers on', async () => {
    const s = await rawSession(fx.port);
    s.socket.write(`a AUTHENTICATE PLAIN ${plainLogin('dave@example.test')}\r\n`);
    await s.seen(/^a OK /m);
    s.socket.write('b SELECT INBOX\r\nc NOOP\r\nd IDLE\r\n');
    const idling = await s.seen(/^\+ idling/m);
    assert.match(idling, /^c OK /m, 'the answers before it came with it');
    s.socket.write('DONE\r\n');
    await s.seen(/^d OK /m);
    s.socket.destroy();
  });
});
