// Transcripts of the MMP's POP3 conversation before login.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loginReply } from '../routing/login-replies.ts';
import { encodePlain } from '../sasl-plain.ts';
import { Pop3PreLoginSession, type Pop3Action, type Pop3SessionOptions } from './pop3-session.ts';

const STORE = ['TOP', 'UIDL', 'RESP-CODES', 'PIPELINING', 'AUTH-RESP-CODE', 'USER', 'SASL PLAIN', 'STLS'];

function session(options: Partial<Pop3SessionOptions> = {}) {
  return new Pop3PreLoginSession({
    secure: false,
    starttls: true,
    plaintextLogin: false,
    storeCapabilities: STORE,
    maxPipelinedBytes: 65536,
    ...options,
  });
}

function said(actions: Pop3Action[]): string {
  return actions.map((a) => (a.kind === 'send' ? a.data : `<${a.kind}>`)).join('');
}
const send = (s: Pop3PreLoginSession, text: string) => said(s.receive(Buffer.from(text)));

describe('POP3 before login', () => {
  test('CAPA in clear offers STLS and no login; over TLS USER and SASL PLAIN', () => {
    assert.equal(said(session().greeting()), '+OK POP3 proxy ready\r\n');
    assert.equal(
      send(session(), 'CAPA\r\n'),
      '+OK Capability list follows\r\nSTLS\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\n.\r\n',
    );
    assert.equal(
      send(session({ secure: true }), 'capa\r\n'),
      '+OK Capability list follows\r\nUSER\r\nSASL PLAIN\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\n.\r\n',
    );
  });

  test('USER in clear is refused with [AUTH]', () => {
    assert.equal(send(session(), 'USER alice\r\n'), '-ERR [AUTH] Use STLS or port 995 first\r\n');
  });

  test('commands pipelined after STLS are discarded', () => {
    const s = session();
    assert.equal(
      send(s, 'STLS\r\nUSER alice\r\nPASS secret\r\n'),
      '+OK Begin TLS negotiation\r\n<start-tls>',
    );
    s.tlsStarted();
    assert.equal(send(s, 'PASS secret\r\n'), '-ERR USER first\r\n');
  });

  test('USER and PASS (with spaces) hand the credentials on; a failure says [AUTH]', () => {
    const s = session({ secure: true });
    assert.equal(send(s, 'USER alice\r\n'), '+OK\r\n');
    assert.deepEqual(s.receive(Buffer.from('PASS my secret\r\n')), [
      { kind: 'login', login: 'alice', password: 'my secret' },
    ]);
    assert.equal(said(s.loginFailed(loginReply('bad-credentials'))), '-ERR [AUTH] Authentication failed\r\n');
  });

  test('AUTH PLAIN with and without an initial response; an authzid for someone else is refused', () => {
    const s = session({ secure: true });
    const plain = encodePlain({ authzid: '', authcid: 'alice', password: 'secret' });
    assert.deepEqual(s.receive(Buffer.from(`AUTH PLAIN ${plain}\r\n`)), [
      { kind: 'login', login: 'alice', password: 'secret' },
    ]);
    const t = session({ secure: true });
    assert.equal(send(t, 'AUTH PLAIN\r\n'), '+ \r\n');
    assert.deepEqual(t.receive(Buffer.from(`${plain}\r\n`)), [
      { kind: 'login', login: 'alice', password: 'secret' },
    ]);
    const u = session({ secure: true });
    assert.equal(
      send(u, `AUTH PLAIN ${encodePlain({ authzid: 'bob', authcid: 'alice', password: 'x' })}\r\n`),
      '-ERR [AUTH] Logging in as another user is not allowed\r\n',
    );
    assert.equal(send(u, 'AUTH\r\n'), '+OK\r\nPLAIN\r\n.\r\n');
  });

  test('what follows the login is held for the store', () => {
    const s = session({ secure: true });
    s.receive(Buffer.from('USER alice\r\nPASS x\r\nSTAT\r\nLIST\r\n'));
    const [splice] = s.loginSucceeded();
    assert.equal(splice?.kind === 'splice' && splice.pipelined.toString(), 'STAT\r\nLIST\r\n');
  });

  test('unknown commands, wrong arity, overlong lines; ten errors end the session', () => {
    const s = session({ secure: true });
    assert.equal(send(s, 'STAT\r\n'), '-ERR Unknown command or not valid before login\r\n');
    assert.equal(send(s, 'USER\r\n'), '-ERR USER: Expected 1 arguments\r\n');
    assert.equal(send(s, `USER ${'x'.repeat(3000)}`), '');
    assert.equal(
      send(s, 'y\r\nQUIT\r\n'),
      '-ERR Line too long (over 2048 bytes)\r\n+OK Logging out\r\n<close>',
    );
    const t = session();
    let transcript = '';
    for (let i = 0; i < 10; i++) transcript += send(t, 'XYZZY\r\n');
    assert.match(transcript, /-ERR Too many invalid commands\r\n<close>$/);
  });
});

describe('POP3 before login: overlong lines', () => {
  test('an overlong line whose end arrives far past the limit is refused once, and the next command runs', () => {
    const s = session();
    assert.equal(send(s, `USER ${'x'.repeat(3000)}`), '');
    assert.equal(
      send(s, `${'y'.repeat(3000)}\r\nCAPA\r\n`).split('\r\n')[0],
      '-ERR Line too long (over 2048 bytes)',
    );
  });
});
