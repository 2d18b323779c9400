// Hostile input gets the protocol's answer (BAD/NO/BYE), never a crash, in bounded memory.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { imapLimits } from '../../limits.ts';
import { startImapFixture, TranscriptClient, type ImapFixture } from '../testing/imap-fixture.ts';

let fx: ImapFixture;
before(async () => (fx = await startImapFixture({ maxMessageBytes: 1024 * 1024 })));
after(async () => fx?.stop());

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const tagged = (lines: string[]) => lines.at(-1)!;

async function stillServes(): Promise<void> {
  const c = await TranscriptClient.login(fx.port, 'canary@example.test');
  assert.equal(tagged(await c.command('ok NOOP')), 'ok OK NOOP completed');
  c.close();
}

async function waitClosed(c: TranscriptClient): Promise<void> {
  for (let i = 0; i < 200 && !c.closed; i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(c.closed, 'the server closed the connection');
}

describe('IMAP against hostile input', () => {
  it('refuses an overlong line with its tag, drops it as it arrives, and goes on', async () => {
    const c = await TranscriptClient.login(fx.port, 'long@example.test');
    // Backing stores are released by finalizers after a collection: collect, yield, a few times.
    const held = async () => {
      for (let i = 0; i < 3; i++) {
        gc();
        await new Promise((resolve) => setImmediate(resolve));
      }
      return process.memoryUsage().arrayBuffers;
    };
    const before = await held();
    c.write(`a1 SEARCH SUBJECT ${'x'.repeat(imapLimits.maxLineBytes)}`);
    const chunk = Buffer.alloc(1024 * 1024, 'y');
    for (let i = 0; i < 32; i++) await c.writeAndDrain(chunk); // 32 MiB more without a line end
    c.write('\r\n');
    assert.equal(await c.readLine(), `a1 BAD Command line too long (over ${imapLimits.maxLineBytes} bytes)`);
    assert.equal(tagged(await c.command('a2 NOOP')), 'a2 OK NOOP completed');
    // Buffers still held after a collection: the junk was dropped as it came, not kept.
    const grown = ((await held()) - before) / 1024 / 1024;
    assert.ok(grown < 8, `buffers held grew by ${grown.toFixed(1)} MiB for 32 MiB of junk`);
    c.close();
  });

  it('refuses {4294967296} without waiting for it, and ends the session for {4294967296+}', async () => {
    const c = await TranscriptClient.login(fx.port, 'huge@example.test');
    c.write('b1 APPEND INBOX {4294967296}\r\n');
    assert.equal(await c.readLine(), 'b1 NO [TOOBIG] Message over the limit of 1048576 bytes');
    c.write('b2 LOGIN {4294967296}\r\n');
    assert.match(await c.readLine(), /^b2 BAD \[TOOBIG\] Literal over the limit/);
    assert.equal(tagged(await c.command('b3 NOOP')), 'b3 OK NOOP completed');
    c.write('b4 APPEND INBOX {4294967296+}\r\n');
    assert.equal(await c.readLine(), '* BYE [TOOBIG] Literal too large, closing');
    await waitClosed(c);
    await stillServes();
  });

  it('survives an unterminated literal and a client that goes away in the middle', async () => {
    const c = await TranscriptClient.login(fx.port, 'cut@example.test');
    c.write('c1 APPEND INBOX {1000}\r\n');
    assert.equal(await c.readLine(), '+ Ready for literal data');
    c.write('only a part');
    c.close();
    await stillServes();
    const d = await TranscriptClient.login(fx.port, 'cut@example.test');
    assert.match((await d.command('c2 STATUS INBOX (MESSAGES)'))[0]!, /MESSAGES 0/);
    d.close();
  });

  it('refuses deep nesting in SEARCH and FETCH', async () => {
    const c = await TranscriptClient.login(fx.port, 'deep@example.test');
    await c.command('s SELECT INBOX');
    const deep = (n: number) => `${'('.repeat(n)}ALL${')'.repeat(n)}`;
    assert.equal(tagged(await c.command(`d1 SEARCH ${deep(10)}`)), 'd1 OK SEARCH completed');
    assert.equal(tagged(await c.command(`d2 SEARCH ${deep(5000)}`)), 'd2 BAD Too deeply nested');
    assert.equal(
      tagged(await c.command(`d3 FETCH 1:* ${'('.repeat(100)}FLAGS${')'.repeat(100)}`)),
      'd3 BAD Too deeply nested',
    );
    assert.equal(
      tagged(await c.command(`d4 SEARCH ${'NOT '.repeat(9000)}ALL`)),
      'd4 BAD SEARCH: Search keys nested too deeply',
    );
    assert.equal(
      tagged(await c.command(`d5 SEARCH ${'OR ALL '.repeat(4000)}ALL`)),
      'd5 BAD SEARCH: Search keys nested too deeply',
    );
    assert.equal(tagged(await c.command(`d6 SEARCH ${'NOT '.repeat(20)}ALL`)), 'd6 OK SEARCH completed');
    c.close();
  });

  it('answers bad tags with an untagged BAD, and ends a session of nothing but bad commands', async () => {
    const c = await TranscriptClient.connect(fx.port);
    c.write('+tag NOOP\r\n');
    assert.equal(await c.readLine(), '* BAD Missing or invalid tag');
    c.write('"q" NOOP\r\n');
    assert.equal(await c.readLine(), '* BAD Missing or invalid tag');
    c.write('x{ NOOP\r\n');
    assert.match(await c.readLine(), /^\* BAD/);
    for (let i = 0; i < imapLimits.maxBadCommands; i++) c.write(`t${i} FROB\r\n`);
    let last = '';
    while (!last.startsWith('* BYE')) last = await c.readLine();
    assert.equal(last, '* BYE Too many invalid commands');
    await waitClosed(c);
  });

  it('slows an IDLE flood (IDLE/DONE in a loop) to the command rate, and serves others meanwhile', async () => {
    const c = await TranscriptClient.login(fx.port, 'flood@example.test');
    // 2.5 windows' worth: whatever is left of the first window, one whole second must pass.
    const rounds = Math.ceil(imapLimits.maxCommandsPerSecond * 2.5);
    const started = Date.now();
    c.write('i IDLE\r\nDONE\r\n'.repeat(rounds));
    await stillServes();
    let done = 0;
    while (done < rounds) if ((await c.readLine()).startsWith('i OK')) done++;
    assert.ok(Date.now() - started >= 950, `${rounds} IDLEs in ${Date.now() - started} ms: not slowed`);
    c.close();
  });

  it('limits the sessions of one user, and frees a place when one logs out', async () => {
    const user = 'many@example.test';
    const sessions = await Promise.all(
      Array.from({ length: imapLimits.maxSessionsPerUser }, () => TranscriptClient.login(fx.port, user)),
    );
    await assert.rejects(
      TranscriptClient.login(fx.port, user),
      /NO \[LIMIT\] Too many sessions for many@example.test/,
    );
    await sessions[0]!.command('z LOGOUT');
    await waitClosed(sessions[0]!);
    const again = await TranscriptClient.login(fx.port, user);
    again.close();
    for (const s of sessions) s.close();
  });
});

describe('a big APPEND, streamed to disk as it arrives', () => {
  let big: ImapFixture;
  before(async () => (big = await startImapFixture({ maxMessageBytes: 32 * 1024 * 1024 })));
  after(async () => big?.stop());
  const held = async () => {
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    return process.memoryUsage().arrayBuffers;
  };
  const tmpBytes = () =>
    readdirSync(join(big.dataDir, 'tmp')).reduce((n, f) => n + statSync(join(big.dataDir, 'tmp', f)).size, 0);

  it('holds a few buffers, not the message, halfway through a 24 MiB literal; the message arrives whole', async () => {
    const c = await TranscriptClient.login(big.port, 'stream@example.test');
    const before = await held();
    const size = 24 * 1024 * 1024;
    c.write(`d1 APPEND INBOX {${size}+}\r\n`);
    const chunk = Buffer.alloc(1024 * 1024, 'z');
    for (let i = 0; i < 16; i++) await c.writeAndDrain(chunk);
    for (let i = 0; i < 400 && tmpBytes() < 15 * 1024 * 1024; i++)
      await new Promise((r) => setTimeout(r, 25));
    assert.ok(tmpBytes() >= 15 * 1024 * 1024, 'the literal reached the file as it came');
    const grown = ((await held()) - before) / 1024 / 1024;
    assert.ok(grown < 4, `buffers held grew by ${grown.toFixed(1)} MiB halfway through a 24 MiB literal`);
    for (let i = 0; i < 8; i++) await c.writeAndDrain(chunk);
    c.write('\r\n');
    assert.match(await c.readLine(), /^d1 OK \[APPENDUID \d+ 1\]/);
    assert.match(
      (await c.command('d2 STATUS INBOX (MESSAGES SIZE)'))[0]!,
      new RegExp(`MESSAGES 1 SIZE ${size}\\)`),
    );
    assert.equal(tmpBytes(), 0);
    c.close();
  });

  it('refuses a streamed plain literal with a NUL, and drops one sent before login', async () => {
    const c = await TranscriptClient.login(big.port, 'nul@example.test');
    const message = Buffer.alloc(512 * 1024, 'n');
    message[300_000] = 0;
    c.write(`e1 APPEND INBOX {${message.length}+}\r\n`);
    await c.writeAndDrain(message);
    c.write('\r\n');
    assert.match(await c.readLine(), /^e1 NO \[UNKNOWN-CTE\]/);
    assert.match((await c.command('e2 STATUS INBOX (MESSAGES)'))[0]!, /MESSAGES 0/);
    c.close();
    const anonymous = await TranscriptClient.connect(big.port);
    anonymous.write(`e3 APPEND INBOX {${message.length}+}\r\n`);
    await anonymous.writeAndDrain(message);
    anonymous.write('\r\n');
    assert.match(await anonymous.readLine(), /^e3 (BAD|NO) /);
    assert.equal(tmpBytes(), 0);
    anonymous.close();
  });

  it('answers BINARY[] of a big base64 message decoded, not with the raw file', async () => {
    const c = await TranscriptClient.login(big.port, 'binary@example.test');
    const body = Buffer.alloc(1536 * 1024, 'q')
      .toString('base64')
      .replace(/.{76}/g, '$&\r\n');
    const raw = Buffer.from(
      `Subject: b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n${body}\r\n`,
    );
    c.write(`f1 APPEND INBOX {${raw.length}+}\r\n`);
    await c.writeAndDrain(raw);
    c.write('\r\n');
    assert.match(await c.readLine(), /^f1 OK/);
    await c.command('f2 SELECT INBOX');
    c.write('f3 FETCH 1 (BINARY.PEEK[])\r\n');
    let line = await c.readLine();
    while (!line.startsWith('* 1 FETCH')) line = await c.readLine();
    const size = Number(/BINARY\[\] ~?\{(\d+)\}/.exec(line)?.[1] ?? line.slice(0, 80));
    assert.ok(
      size > 1536 * 1024 && size < 1536 * 1024 + 200,
      `BINARY[] is ${size} bytes (${line.slice(0, 90)}), the file ${raw.length}`,
    );
    c.close();
  });
});
