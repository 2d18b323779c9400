// STARTTLS and implicit TLS with curl and imaplib, and COMPRESS=DEFLATE (RFC 4978) by hand with
// zlib: the transport layers under the same sessions.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { constants, createDeflateRaw, createInflateRaw } from 'node:zlib';
import { run } from '../../../../testing/support/processes.ts';
import {
  curlLogin,
  PROXY_IDENTITY,
  PROXY_SECRET,
  plainLogin,
  startImapFixture,
  type ImapFixture,
} from '../testing/imap-fixture.ts';

let starttls: ImapFixture;
let implicit: ImapFixture;
before(async () => {
  starttls = await startImapFixture({ tls: 'starttls' });
  implicit = await startImapFixture({ tls: 'implicit' });
});
after(async () => {
  await starttls?.stop();
  await implicit?.stop();
});

describe('IMAP transports', () => {
  it('offers STARTTLS before login, and curl upgrades and logs in', async () => {
    const result = await run('curl', [
      '-sS',
      '--ssl-reqd',
      '--insecure',
      ...curlLogin('tls@example.test'),
      `imap://127.0.0.1:${starttls.port}/`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /"INBOX"/);
  });

  it('refuses commands pipelined behind STARTTLS (no plaintext injection into the TLS session)', async () => {
    const script = `
import socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.recv(4096)
s.sendall(b'a STARTTLS\\r\\nb NOOP\\r\\n')
import time; time.sleep(0.3)
print(s.recv(4096).decode().strip())
`;
    const result = await run('python3', ['-c', script, String(starttls.port)]);
    assert.match(result.stdout, /^a BAD Commands pipelined after STARTTLS/m);
  });

  it('speaks TLS from the first byte on an implicit-TLS listener (imaplib IMAP4_SSL)', async () => {
    const script = `
import imaplib, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
m = imaplib.IMAP4_SSL('127.0.0.1', int(sys.argv[1]), ssl_context=ctx)
m.authenticate('PLAIN', lambda _: ('ssl@example.test\\0%s\\0%s' % (sys.argv[2], sys.argv[3])).encode())
print(m.select('INBOX')[0]); m.logout()
`;
    const result = await run('python3', ['-c', script, String(implicit.port), PROXY_IDENTITY, PROXY_SECRET]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), 'OK');
  });

  it('deflates both ways after COMPRESS DEFLATE', async () => {
    const socket = connect(starttls.port, '127.0.0.1');
    let plain = '';
    const inflate = createInflateRaw();
    let compressed = false;
    let inflated = '';
    socket.on('data', (chunk: Buffer) =>
      compressed ? inflate.write(chunk) : (plain += chunk.toString('latin1')),
    );
    inflate.on('data', (chunk: Buffer) => (inflated += chunk.toString('latin1')));
    const until = async (get: () => string, pattern: RegExp) => {
      for (let i = 0; i < 400 && !pattern.test(get()); i++) await new Promise((r) => setTimeout(r, 10));
      assert.match(get(), pattern);
    };
    await until(() => plain, /^\* OK/);
    socket.write(`a AUTHENTICATE PLAIN ${plainLogin('zip@example.test')}\r\n`);
    await until(() => plain, /a OK .*COMPRESS=DEFLATE/);
    socket.write('b COMPRESS DEFLATE\r\n');
    await until(() => plain, /b OK DEFLATE active\r\n$/);
    compressed = true;
    const deflate = createDeflateRaw();
    deflate.on('data', (chunk: Buffer) => socket.write(chunk));
    deflate.write('c LIST "" INBOX\r\nd CAPABILITY\r\n');
    deflate.flush(constants.Z_SYNC_FLUSH);
    await until(() => inflated, /d OK CAPABILITY completed\r\n$/);
    assert.match(inflated, /\* LIST \(\\HasNoChildren\) "\/" "INBOX"\r\nc OK LIST completed/);
    assert.doesNotMatch(inflated, /COMPRESS=DEFLATE/, 'not offered twice');
    socket.destroy();
  });
  it('sends big messages (streamed from the file) byte for byte over TLS: imaplib APPENDs and FETCHes them', async () => {
    // Three messages over the streaming threshold, two FETCHed in one command: the chunk buffers
    // are reused from one message to the next while TLS may still hold the previous ones.
    const script = `
import hashlib, imaplib, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
m = imaplib.IMAP4_SSL('127.0.0.1', int(sys.argv[1]), ssl_context=ctx)
m.authenticate('PLAIN', lambda _: ('bigtls@example.test\\0%s\\0%s' % (sys.argv[2], sys.argv[3])).encode())
sent = []
for n in range(3):
    line = (('%d' % n) * 77 + '\\r\\n').encode()
    body = b'Subject: big %d\\r\\n\\r\\n' % n + line * (30000 + n * 7001)
    sent.append(hashlib.sha256(body).hexdigest())
    assert m.append('INBOX', None, None, body)[0] == 'OK'
m.select('INBOX')
typ, data = m.fetch('1:3', '(BODY.PEEK[])')
got = [hashlib.sha256(d[1]).hexdigest() for d in data if isinstance(d, tuple)]
print('same' if got == sent else 'differ %r %r' % (got, sent)); m.logout()
`;
    const result = await run('python3', ['-c', script, String(implicit.port), PROXY_IDENTITY, PROXY_SECRET], {
      timeoutMs: 120_000,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), 'same');
  });

  it('sends a big message byte for byte after COMPRESS DEFLATE, the chunks flushed as they go', async () => {
    const line = `${'z'.repeat(70)}0123456\r\n`;
    const message = Buffer.from(`Subject: big deflated\r\n\r\n${line.repeat(40_000)}`); // 3.1 MB
    const socket = connect(starttls.port, '127.0.0.1');
    let plain = '';
    const inflate = createInflateRaw();
    let compressed = false;
    const received: Buffer[] = [];
    let inflatedLength = 0;
    socket.on('data', (chunk: Buffer) =>
      compressed ? inflate.write(chunk) : (plain += chunk.toString('latin1')),
    );
    inflate.on('data', (chunk: Buffer) => {
      received.push(chunk);
      inflatedLength += chunk.length;
    });
    const text = () => Buffer.concat(received).toString('latin1');
    const until = async (get: () => string, pattern: RegExp) => {
      for (let i = 0; i < 3000 && !pattern.test(get()); i++) await new Promise((r) => setTimeout(r, 10));
      assert.match(get(), pattern);
    };
    await until(() => plain, /^\* OK/);
    socket.write(`a AUTHENTICATE PLAIN ${plainLogin('bigzip@example.test')}\r\n`);
    await until(() => plain, /a OK /);
    socket.write('b COMPRESS DEFLATE\r\n');
    await until(() => plain, /b OK DEFLATE active\r\n$/);
    compressed = true;
    const deflate = createDeflateRaw();
    deflate.on('data', (chunk: Buffer) => socket.write(chunk));
    deflate.write(`c APPEND INBOX {${message.length}+}\r\n`);
    deflate.write(message);
    deflate.write('\r\nd SELECT INBOX\r\ne FETCH 1 (BODY.PEEK[])\r\n');
    deflate.flush(constants.Z_SYNC_FLUSH);
    await until(
      () => (inflatedLength > message.length ? text().slice(-200) : ''),
      /e OK FETCH completed\r\n$/,
    );
    const all = Buffer.concat(received);
    const head = Buffer.from(`* 1 FETCH (BODY[] {${message.length}}\r\n`);
    const at = all.indexOf(head);
    assert.ok(at > 0, 'the FETCH response');
    const literal = all.subarray(at + head.length, at + head.length + message.length);
    assert.ok(literal.equals(message), 'the literal is the message');
    assert.equal(
      all.subarray(at + head.length + message.length).toString('latin1'),
      ')\r\ne OK FETCH completed\r\n',
    );
    socket.destroy();
  });
});
