// The MMP's login at a store on a user's behalf, as the store sees it and as the client is told.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { handbackNonces, nextHandbackId } from './handback-nonces.ts';
import { ImapStoreLogin, Pop3StoreLogin, type StoreLoginStep } from './store-login.ts';

const request = {
  user: 'alice',
  proxyUser: 'mmp',
  secret: 's3cret',
  client: { address: '192.0.2.7', port: 50123 },
  sessionId: 'abc123',
};
const plain = Buffer.from('alice\0mmp\0s3cret').toString('base64');
const feed = (login: { receive(b: Buffer): StoreLoginStep[] }, text: string) =>
  login.receive(Buffer.from(text));

describe('IMAP login at the store', () => {
  test('with SASL-IR: ID with the client address and AUTHENTICATE in one write; the OK goes to the client under its tag', () => {
    const login = new ImapStoreLogin(request, 'a7', 65536);
    assert.deepEqual(feed(login, '* OK [CAPABILITY IMAP4rev1 SASL-IR ID AUTH=PLAIN] Dovecot ready.\r\n'), [
      {
        kind: 'send',
        data: `M1 ID ("x-originating-ip" "192.0.2.7" "x-originating-port" "50123" "x-session-id" "abc123")\r\nM2 AUTHENTICATE PLAIN ${plain}\r\n`,
      },
    ]);
    const steps = feed(
      login,
      '* ID ("name" "Dovecot")\r\nM1 OK ID completed.\r\nM2 OK [CAPABILITY IMAP4rev1 IDLE MOVE] Logged in\r\n',
    );
    assert.equal(steps.length, 1);
    const [step] = steps;
    assert.equal(step?.kind, 'logged-in');
    assert.equal(
      step?.kind === 'logged-in' && step.toClient,
      'a7 OK [CAPABILITY IMAP4rev1 IDLE MOVE] Logged in\r\n',
    );
  });

  test("asks a store that offers X-MTOPO-HANDBACK for it, with this login's nonces, and only such a store", () => {
    const id = nextHandbackId();
    const { marker, resync } = handbackNonces(id);
    const login = new ImapStoreLogin({ ...request, handbackId: id }, 'a', 65536);
    const [sent] = feed(login, '* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN X-MTOPO-HANDBACK] ready\r\n');
    assert.match(
      sent?.kind === 'send' ? sent.data : '',
      new RegExp(
        `^M1 ID \\("x-originating-ip" "192.0.2.7" .* "x-mtopo-handback" "${marker} ${resync}"\\)\r\n`,
      ),
    );
    const [done] = feed(login, 'M1 OK\r\nM2 OK Logged in\r\n');
    assert.equal(done?.kind === 'logged-in' && done.handbackId, id);
    assert.notDeepEqual(handbackNonces(nextHandbackId()), { marker, resync }, 'a new pair each login');
    for (const greeting of [
      '* OK [CAPABILITY IMAP4rev1 SASL-IR] Dovecot ready.',
      '* OK [CAPABILITY X-MTOPO-HANDBACKS] x',
    ]) {
      const other = new ImapStoreLogin({ ...request, handbackId: nextHandbackId() }, 'a', 65536);
      const [plainSent] = feed(other, `${greeting}\r\n`);
      assert.doesNotMatch(plainSent?.kind === 'send' ? plainSent.data : '', /handback/);
      const [otherDone] = feed(other, 'M1 OK\r\nM2 OK Logged in\r\n');
      assert.equal(otherDone?.kind === 'logged-in' && otherDone.handbackId, 0);
    }
  });

  test('without SASL-IR the credentials follow the continuation', () => {
    // An atom that only contains the name is not it.
    const other = new ImapStoreLogin(request, 'a', 65536);
    const [sent] = feed(other, '* OK [CAPABILITY IMAP4rev1 X-SASL-IRX] ready\r\n');
    assert.match(sent?.kind === 'send' ? sent.data : '', /M2 AUTHENTICATE PLAIN\r\n$/);
    const login = new ImapStoreLogin(request, 'a', 65536);
    const [first] = feed(login, '* OK ready\r\n');
    assert.match(first?.kind === 'send' ? first.data : '', /M2 AUTHENTICATE PLAIN\r\n$/);
    assert.deepEqual(feed(login, 'M1 OK\r\n+ \r\n'), [{ kind: 'send', data: `${plain}\r\n` }]);
    const [done] = feed(login, '* CAPABILITY IMAP4rev1 IDLE\r\nM2 OK Logged in\r\nx');
    assert.equal(
      done?.kind === 'logged-in' && done.toClient,
      '* CAPABILITY IMAP4rev1 IDLE\r\na OK Logged in\r\n',
    );
    assert.equal(done?.kind === 'logged-in' && done.rest.toString(), 'x');
  });

  test('a refusal, a BYE greeting and an endless line end the attempt', () => {
    const refused = new ImapStoreLogin(request, 'a', 65536);
    feed(refused, '* OK [CAPABILITY SASL-IR] ready\r\n');
    assert.deepEqual(feed(refused, 'M1 OK\r\nM2 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n'), [
      { kind: 'refused', text: 'NO [AUTHENTICATIONFAILED] Authentication failed.' },
    ]);
    assert.equal(feed(new ImapStoreLogin(request, 'a', 65536), '* BYE too many\r\n')[0]?.kind, 'broken');
    assert.equal(feed(new ImapStoreLogin(request, 'a', 100), 'x'.repeat(200))[0]?.kind, 'broken');
  });
});

describe('POP3 login at the store', () => {
  test('AUTH PLAIN with the initial response, after XCLIENT when offered; the +OK goes to the client', () => {
    const login = new Pop3StoreLogin(request, 65536);
    assert.deepEqual(feed(login, '+OK Dovecot ready.\r\n'), [
      { kind: 'send', data: `AUTH PLAIN ${plain}\r\n` },
    ]);
    assert.deepEqual(feed(login, '+OK Logged in.\r\n'), [
      { kind: 'logged-in', toClient: '+OK Logged in.\r\n', rest: Buffer.alloc(0) },
    ]);
    const dovecot = new Pop3StoreLogin(request, 65536);
    assert.deepEqual(feed(dovecot, '+OK [XCLIENT] Dovecot (Debian) ready.\r\n'), [
      { kind: 'send', data: 'XCLIENT ADDR=192.0.2.7 PORT=50123 SESSION=abc123\r\n' },
    ]);
    assert.deepEqual(feed(dovecot, '+OK\r\n'), [{ kind: 'send', data: `AUTH PLAIN ${plain}\r\n` }]);
    const refused = new Pop3StoreLogin(request, 65536);
    feed(refused, '+OK\r\n');
    assert.deepEqual(feed(refused, '-ERR [AUTH] Authentication failed.\r\n'), [
      { kind: 'refused', text: '-ERR [AUTH] Authentication failed.' },
    ]);
  });
});
