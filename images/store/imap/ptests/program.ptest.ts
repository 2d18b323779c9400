// IMAP in the real store program (node images/store/main.ts): mail Postfix delivers over LMTP (with
// STARTTLS) reads back byte for byte over IMAP (imaplib with STARTTLS, curl over imaps); a POP3
// session's deletion reaches an IDLE IMAP session as EXPUNGE; the metrics count IMAP commands.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Postfix } from '../../../../testing/peers/postfix.ts';
import { run } from '../../../../testing/support/processes.ts';
import { DOMAIN, PROXY_SECRET, PROXY_USER } from '../../testing/store-process.ts';
import { storeForTests } from '../../testing/store-for-tests.ts';
import {
  eightBitMessage,
  poplib,
  postfixDelivered,
  smtplibSend,
  startPostfixToStore,
} from '../../ptests/peers.ts';
import { TranscriptClient } from '../testing/imap-fixture.ts';

let postfix: Postfix;
const bed = storeForTests(
  'store-imap-program',
  {},
  {
    start: async (store, dir) => void (postfix = await startPostfixToStore(join(dir, 'postfix'), store)),
    stop: async () => postfix?.stop(),
  },
);

const original = eightBitMessage(`Lee <lee@${DOMAIN}>`, 'imap-bytes-1');

const login = (user: string) => Buffer.from(`${user}\0${PROXY_USER}\0${PROXY_SECRET}`).toString('base64');

describe('IMAP in the store program', () => {
  it('reads back what Postfix delivered over LMTP byte for byte (imaplib with STARTTLS, curl over imaps)', async () => {
    const user = `lee@${DOMAIN}`;
    await smtplibSend(postfix.port, 'ana@remote.example', [user], original);
    await postfixDelivered(postfix);
    const script = `
import imaplib, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.starttls(ssl_context=ctx)
m.authenticate('PLAIN', lambda _: '\\0'.join(sys.argv[3:6]).encode())
m.select('INBOX', readonly=True)
typ, data = m.fetch('1', '(BODY.PEEK[])')
sys.stdout.buffer.write(data[0][1])
m.logout()
`;
    const fetched = await run('python3', [
      '-c',
      script,
      String(bed.store.ports.imap),
      bed.store.caFile,
      user,
      PROXY_USER,
      PROXY_SECRET,
    ]);
    assert.equal(fetched.code, 0, fetched.stderr);
    // Postfix prepends its Received: header; everything else is the message as sent.
    const start = fetched.stdout.indexOf('From: Ana');
    assert.match(fetched.stdout.slice(0, start), /^Received: /);
    assert.equal(
      Buffer.from(fetched.stdout.slice(start)).toString('hex'),
      Buffer.from(original).toString('hex'),
    );
    const curl = await run('curl', [
      '-sS',
      '--cacert',
      bed.store.caFile,
      '--login-options',
      'AUTH=PLAIN',
      '--sasl-authzid',
      user,
      '-u',
      `${PROXY_USER}:${PROXY_SECRET}`,
      `imaps://127.0.0.1:${bed.store.ports.imaps}/INBOX;UID=1`,
    ]);
    assert.equal(curl.code, 0, curl.stderr);
    assert.equal(curl.stdout.slice(curl.stdout.indexOf('From: Ana')), original);
  });

  it('tells an IDLE IMAP session of a POP3 deletion as EXPUNGE, and counts IMAP commands', async () => {
    const user = `pat@${DOMAIN}`;
    const c = await TranscriptClient.connect(bed.store.ports.imap);
    assert.match((await c.command(`a AUTHENTICATE PLAIN ${login(user)}`)).at(-1)!, /^a OK/);
    for (const n of [1, 2]) {
      const m = `Subject: ${n}\r\n\r\nbody ${n}\r\n`;
      c.write(`p${n} APPEND INBOX {${m.length}+}\r\n${m}\r\n`);
      await c.until(`p${n}`);
    }
    await c.command('s SELECT INBOX');
    c.write('i IDLE\r\n');
    assert.equal(await c.readLine(), '+ idling');
    const popped = await poplib({
      port: bed.store.ports.pop3,
      user,
      tls: 'plain',
      body: 'p.dele(1)\np.quit()\nprint("ok")',
    });
    assert.match(popped, /ok/);
    assert.equal(await c.readLine(), '* 1 EXPUNGE');
    c.write('DONE\r\n');
    assert.equal(await c.readLine(), 'i OK IDLE terminated');
    c.close();
    assert.ok(
      (await bed.store.metric('mtopo_store_commands_total', {
        protocol: 'imap',
        command: 'APPEND',
        result: 'ok',
      })) >= 2,
    );
    assert.ok((await bed.store.metric('mtopo_store_sessions_total', { protocol: 'imap' })) >= 1);
  });
});
