// The store's LMTP against Postfix: its smtp-source load generator (`-L`) and a Postfix instance
// whose relay transport is LMTP to the store (with STARTTLS). What arrives is read back over POP3
// with real clients, byte for byte.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Postfix } from '../../../testing/peers/postfix.ts';
import { SmtpTranscript } from '../../../testing/peers/smtp-transcript.ts';
import { run } from '../../../testing/support/processes.ts';
import { DOMAIN } from '../testing/store-process.ts';
import { storeForTests } from '../testing/store-for-tests.ts';
import {
  curlPop3,
  eightBitMessage,
  poplib,
  postfixDelivered,
  smtplibSend,
  startPostfixToStore,
} from './peers.ts';

let postfix: Postfix;
const bed = storeForTests(
  'store-lmtp',
  { quota: { messages: 300 } },
  {
    start: async (store, dir) => void (postfix = await startPostfixToStore(join(dir, 'postfix'), store)),
    stop: async () => postfix?.stop(),
  },
);

const stat = async (user: string) =>
  JSON.parse(
    await poplib({
      port: bed.store.ports.pop3,
      user,
      tls: 'plain',
      body: 'print(json.dumps(p.stat()))\np.quit()',
    }),
  ) as [number, number];

describe('LMTP with Postfix', () => {
  it('takes smtp-source -L load over 10 connections, every message counted', async () => {
    const result = await run(
      'smtp-source',
      [
        '-L',
        '-s',
        '10',
        '-m',
        '300',
        '-l',
        '1024',
        '-f',
        'load@remote.example',
        '-t',
        `load@${DOMAIN}`,
        `127.0.0.1:${bed.store.ports.lmtp}`,
      ],
      { timeoutMs: 120_000 },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual((await stat(`load@${DOMAIN}`))[0], 300);
    assert.equal(await bed.store.metric('mtopo_store_lmtp_deliveries_total', { outcome: 'delivered' }), 300);
  });

  it('takes mail from Postfix over LMTP with STARTTLS and reads it back byte for byte over POP3', async () => {
    const original = eightBitMessage(`Lee <lee@${DOMAIN}>, Mo <mo@${DOMAIN}>`, 'bytes-1', ['.']);
    await smtplibSend(postfix.port, 'ana@remote.example', [`lee@${DOMAIN}`, `mo@${DOMAIN}`], original);
    await postfixDelivered(postfix);
    assert.match(postfix.maillog(), /TLS connection established to 127\.0\.0\.1/);
    for (const user of [`lee@${DOMAIN}`, `mo@${DOMAIN}`]) {
      const retrieved = await poplib({
        port: bed.store.ports.pop3,
        user,
        tls: 'stls',
        caFile: bed.store.caFile,
        body: 'r = p.retr(1)\nsys.stdout.buffer.write(b"\\r\\n".join(r[1]) + b"\\r\\n")\np.quit()',
      });
      // Postfix prepends its Received: header; everything else is the message as sent.
      const headerEnd = retrieved.indexOf('From: Ana');
      assert.match(retrieved.slice(0, headerEnd), /^Received: /);
      assert.equal(
        Buffer.from(retrieved.slice(headerEnd)).toString('hex'),
        Buffer.from(original).toString('hex'),
      );
      const raw = await curlPop3(bed.store.ports.pop3, user, '/1');
      assert.equal(raw.slice(raw.indexOf('From: Ana')), original, 'curl reads the same bytes');
    }
  });

  it('reads back exactly what an LMTP client sent, and answers each recipient by its own quota', async () => {
    const t = await SmtpTranscript.open(bed.store.ports.lmtp);
    await t.read();
    await t.command('LHLO test');
    const full = `full@${DOMAIN}`;
    const fill = await run(
      'smtp-source',
      ['-L', '-s', '5', '-m', '300', '-t', full, `127.0.0.1:${bed.store.ports.lmtp}`],
      { timeoutMs: 120_000 },
    );
    assert.equal(fill.code, 0, fill.stderr);
    await t.command('MAIL FROM:<s@remote.example>');
    assert.equal((await t.command(`RCPT TO:<${full}>`)).code, 452, 'the full mailbox is refused at RCPT');
    assert.equal((await t.command(`RCPT TO:<exact@${DOMAIN}>`)).code, 250);
    assert.equal((await t.command('RCPT TO:<nobody@elsewhere.example>')).code, 550);
    assert.equal((await t.command('DATA')).code, 354);
    const body = 'Subject: exact\r\n\r\n..stuffed\r\nbare\nLF\r\nand a tab\there\r\n';
    t.write(`${body}.\r\n`);
    assert.equal((await t.read()).code, 250);
    await t.command('QUIT');
    t.close();
    const retrieved = await curlPop3(bed.store.ports.pop3, `exact@${DOMAIN}`, '/1');
    assert.equal(retrieved, 'Subject: exact\r\n\r\n.stuffed\r\nbare\r\nLF\r\nand a tab\there\r\n');
  });
});
