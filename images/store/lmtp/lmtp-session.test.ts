// LMTP transcripts against the real engine on a temp dir.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SmtpTranscript } from '../../../testing/peers/smtp-transcript.ts';
import { silentLogger, startStoreFixture, type StoreFixture } from '../testing/store-fixture.ts';
import { runLmtpSession } from './lmtp-session.ts';

let fixture: StoreFixture;
let port: number;
const outcomes: string[] = [];

before(async () => {
  fixture = await startStoreFixture('lmtp', {
    quota: { storageBytes: 2000, messages: undefined },
    maxMessageBytes: 4096,
  });
  port = await fixture.serve((conn) =>
    runLmtpSession(conn, {
      store: fixture.store,
      hostname: 'store-0.test',
      domains: new Set(['siroe.example']),
      maxMessageBytes: 4096,
      tls: undefined,
      logger: silentLogger,
      onOutcome: (kind) => outcomes.push(kind),
    }),
  );
});
after(() => fixture.close());

async function session() {
  const t = await SmtpTranscript.open(port);
  assert.equal((await t.read()).code, 220);
  return t;
}

async function inbox(user: string) {
  const account = await fixture.store.openAccount(user);
  const view = await account.openMailbox('INBOX', { readOnly: true });
  const messages = await Promise.all(view.snapshot.messages.map((m) => view.readMessageBuffer(m.uid)));
  account.close();
  return messages.map((m) => m.toString('latin1'));
}

describe('LMTP session', () => {
  it('announces its extensions after LHLO and refuses HELO and EHLO', async () => {
    const t = await session();
    assert.equal((await t.command('EHLO client')).code, 500);
    const lhlo = await t.command('LHLO client');
    assert.equal(lhlo.code, 250);
    assert.deepEqual(
      lhlo.lines.slice(1).map((l) => l.slice(4)),
      ['PIPELINING', 'ENHANCEDSTATUSCODES', '8BITMIME', 'SMTPUTF8', 'SIZE 4096'],
    );
    assert.equal((await t.command('QUIT')).code, 221);
    t.close();
  });

  it('answers each accepted recipient after DATA, pipelined, and stores the message as sent', async () => {
    const t = await session();
    t.write(
      'LHLO c\r\nMAIL FROM:<s@remote.example> BODY=8BITMIME\r\nRCPT TO:<carol@siroe.example>\r\nRCPT TO:<x@elsewhere.example>\r\nRCPT TO:<Dave@Siroe.Example>\r\nDATA\r\n',
    );
    const codes = [];
    for (let i = 0; i < 6; i++) codes.push((await t.read()).code);
    assert.deepEqual(codes, [250, 250, 250, 550, 250, 354]);
    t.write('Subject: pipelined\r\n\r\n..dot-stuffed\r\nline\n.\nnot the end\r\n.\r\nNOOP\r\n');
    const replies = [await t.read(), await t.read(), await t.read()];
    assert.deepEqual(
      replies.map((r) => r.code),
      [250, 250, 250],
    );
    assert.match(replies[0]!.text, /<carol@siroe.example>/);
    assert.match(replies[1]!.text, /<dave@siroe.example>/);
    const expected = 'Subject: pipelined\r\n\r\n.dot-stuffed\r\nline\r\n.\r\nnot the end\r\n';
    assert.deepEqual(await inbox('carol@siroe.example'), [expected]);
    assert.deepEqual(await inbox('dave@siroe.example'), [expected]);
    t.close();
  });

  it('ends data only at CRLF.CRLF: LF.LF and CRLF.LF are content', async () => {
    const t = await session();
    await t.command('LHLO c');
    await t.command('MAIL FROM:<>');
    await t.command('RCPT TO:<erin@siroe.example>');
    assert.equal((await t.command('DATA')).code, 354);
    t.write('Subject: smuggle\r\n\r\nA\n.\nMAIL FROM:<evil@x>\r\n.\nRCPT TO:<y@siroe.example>\r\n');
    await assert.rejects(t.read(500), /no reply/);
    t.write('.\r\n');
    assert.equal((await t.read()).code, 250);
    const [stored] = await inbox('erin@siroe.example');
    assert.equal(
      stored,
      'Subject: smuggle\r\n\r\nA\r\n.\r\nMAIL FROM:<evil@x>\r\n.\r\nRCPT TO:<y@siroe.example>\r\n',
    );
    t.close();
  });

  it('refuses over quota with 452 4.2.2 for that recipient only, at RCPT once full', async () => {
    const t = await session();
    await t.command('LHLO c');
    await t.command('MAIL FROM:<>');
    await t.command('RCPT TO:<full@siroe.example>');
    await t.command('RCPT TO:<roomy@siroe.example>');
    await t.command('DATA');
    t.write(`Subject: big\r\n\r\n${'x'.repeat(1500)}\r\n.\r\n`);
    assert.deepEqual([(await t.read()).code, (await t.read()).code], [250, 250]);
    await t.command('MAIL FROM:<>');
    await t.command('RCPT TO:<roomy@siroe.example>');
    assert.equal((await t.command('DATA')).code, 354);
    t.write(`Subject: again\r\n\r\n${'y'.repeat(1000)}\r\n.\r\n`);
    const over = await t.read();
    assert.equal(over.code, 452);
    assert.match(over.text, /^4\.2\.2/);
    t.close();
  });

  it('answers 552 5.3.4 for a message over the size limit, after reading it all', async () => {
    const t = await session();
    await t.command('LHLO c');
    assert.equal((await t.command('MAIL FROM:<> SIZE=5000')).code, 552);
    await t.command('MAIL FROM:<>');
    await t.command('RCPT TO:<frank@siroe.example>');
    await t.command('DATA');
    t.write(`Subject: huge\r\n\r\n${'z'.repeat(5000)}\r\n.\r\n`);
    assert.equal((await t.read()).code, 552);
    assert.equal((await t.command('NOOP')).code, 250, 'the session is still in step');
    t.close();
  });

  it('refuses commands out of sequence, bare LF in commands, overlong lines, and disconnects after too many errors', async () => {
    const t = await session();
    assert.equal((await t.command('MAIL FROM:<>')).code, 503);
    await t.command('LHLO c');
    assert.equal((await t.command('DATA')).code, 503);
    await t.command('MAIL FROM:<>');
    assert.equal((await t.command('DATA')).code, 503, 'no recipient accepted');
    t.write('RCPT TO:<a@siroe.example>\nDATA\r\n');
    assert.equal((await t.read()).code, 500);
    assert.equal((await t.command(`NOOP ${'x'.repeat(5000)}`)).code, 500);
    for (let i = 0; i < 6; i++) await t.command('BOGUS');
    const last = await t.command('BOGUS');
    assert.equal(last.code, 421);
    t.close();
  });

  it('keeps nothing of a message whose connection drops mid-data', async () => {
    const t = await session();
    await t.command('LHLO c');
    await t.command('MAIL FROM:<>');
    await t.command('RCPT TO:<gina@siroe.example>');
    await t.command('DATA');
    t.write('Subject: cut\r\n\r\nhalf');
    await new Promise((r) => setTimeout(r, 50));
    t.close();
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(await inbox('gina@siroe.example'), []);
  });
});
