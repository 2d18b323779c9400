// The connection handed back to the MMP after LOGOUT (handback.ts): transcripts on the real engine.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { plainLogin, startImapFixture, TranscriptClient, type ImapFixture } from '../testing/imap-fixture.ts';

let fx: ImapFixture;
before(async () => (fx = await startImapFixture()));
after(async () => fx?.stop());

const nonce = () => randomBytes(16).toString('hex');
const tagged = (lines: string[]) => lines.at(-1)!;

/** Logs in as the MMP for `user`, having asked for a handback with the nonces. */
async function handbackSession(c: TranscriptClient, user: string, marker: string, resync: string) {
  assert.match(tagged(await c.command(`i ID ("x-mtopo-handback" "${marker} ${resync}")`)), /^i OK/);
  assert.match(tagged(await c.command(`l AUTHENTICATE PLAIN ${plainLogin(user)}`)), /^l OK/);
}

/** The connection closes: reading on fails with "connection closed". */
async function closes(c: TranscriptClient) {
  await assert.rejects(
    (async () => {
      for (;;) await c.readLine();
    })(),
    /connection closed/,
  );
}

describe("IMAP handback: the connection is the MMP's again after LOGOUT", () => {
  it('is offered before login', async () => {
    const c = await TranscriptClient.connect(fx.port);
    assert.match((await c.command('a CAPABILITY'))[0]!, /^\* CAPABILITY .* X-MTOPO-HANDBACK/);
    c.close();
  });

  it('marks the end of the session, drops what the client sent behind LOGOUT, and greets again at the resync line', async () => {
    const c = await TranscriptClient.connect(fx.port);
    const [marker, resync] = [nonce(), nonce()];
    await handbackSession(c, 'hb-alice@example.test', marker, resync);
    assert.match(tagged(await c.command('a APPEND INBOX {12+}\r\nSubject: x\r\n')), /^a OK/);
    assert.deepEqual(
      (await c.command('b LOGOUT')).map((l) => l.split(' ').slice(0, 2).join(' ')),
      ['* BYE', 'b OK'],
    );
    assert.equal(await c.readLine(), `* X-MTOPO-HANDBACK ${marker}`);
    // What a client pipelined behind its LOGOUT, a wrong resync line among it, then the MMP's.
    c.write(`c NOOP\r\n${nonce()}\r\nd SELECT INBOX\r\n${resync}\r\ne NOOP\r\n`);
    const greeting = await c.readLine();
    assert.match(greeting, /^\* OK \[CAPABILITY [^\]]*AUTH=PLAIN[^\]]*\] .* ready$/);
    assert.deepEqual(await c.until('e'), ['e OK NOOP completed'], 'c and d were dropped');
    // A new session: not logged in, and the next user sees only their own mail.
    assert.match(tagged(await c.command('f SELECT INBOX')), /^f BAD/);
    assert.match(
      tagged(await c.command(`g AUTHENTICATE PLAIN ${plainLogin('hb-bob@example.test')}`)),
      /^g OK/,
    );
    const select = await c.command('h SELECT INBOX');
    assert.ok(select.includes('* 0 EXISTS'), select.join('\n'));
    assert.match(tagged(await c.command('k LOGOUT')), /^k OK/);
    await closes(c); // bob's session asked for no handback
  });

  it('closes as before without nonces, with nonces that are not two hex values, or after a failed login', async () => {
    for (const [id, user, secret] of [
      [undefined, 'hb-carol@example.test', undefined],
      [`("x-mtopo-handback" "abc def")`, 'hb-carol@example.test', undefined],
      [`("x-mtopo-handback" "${'a'.repeat(32)} ${'a'.repeat(32)}")`, 'hb-carol@example.test', undefined],
      [`("x-mtopo-handback" "${nonce()} ${nonce()}")`, 'hb-carol@example.test', 'wrong'],
    ] as const) {
      const c = await TranscriptClient.connect(fx.port);
      if (id) await c.command(`i ID ${id}`);
      await c.command(`l AUTHENTICATE PLAIN ${plainLogin(user, secret)}`);
      assert.match(tagged(await c.command('b LOGOUT')), /^b OK/);
      await closes(c);
    }
  });

  it('closes a compressed session at LOGOUT although the handback was asked (the MMP cannot read deflate)', async () => {
    const c = await TranscriptClient.connect(fx.port);
    const marker = nonce();
    await handbackSession(c, 'hb-erin@example.test', marker, nonce());
    assert.match(tagged(await c.command('z COMPRESS DEFLATE')), /^z OK/);
    const flush = { finishFlush: constants.Z_SYNC_FLUSH };
    c.write(deflateRawSync(Buffer.from('b LOGOUT\r\n'), flush));
    const answer = inflateRawSync(await c.restUntilClosed(), flush).toString('latin1');
    assert.match(answer, /^\* BYE .*\r\nb OK /);
    assert.doesNotMatch(answer, /X-MTOPO-HANDBACK/);
  });

  it('closes a handed-back connection that sends a megabyte without the resync line', async () => {
    const c = await TranscriptClient.connect(fx.port);
    await handbackSession(c, 'hb-dave@example.test', nonce(), nonce());
    await c.command('b LOGOUT');
    await c.readLine();
    const junk = Buffer.alloc(64 * 1024, 'x');
    for (let i = 0; i < 17 && !c.closed; i++) await c.writeAndDrain(junk);
    await closes(c);
  });
});
