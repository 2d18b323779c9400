// Transcripts of the MMP's SMTP submission conversation before AUTH.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PreLoginAction } from '../pre-login-core.ts';
import { loginReply } from '../routing/login-replies.ts';
import { encodePlain } from '../sasl-plain.ts';
import { relayExtensions } from './extensions.ts';
import { SmtpPreAuthSession, type SmtpSessionOptions } from './smtp-session.ts';

const MTA_EHLO = [
  'mta.example',
  'PIPELINING',
  '8BITMIME',
  'SMTPUTF8',
  'ENHANCEDSTATUSCODES',
  'SIZE 26214400',
  'AUTH PLAIN LOGIN',
  'XCLIENT NAME ADDR PORT PROTO HELO LOGIN',
  'STARTTLS',
  'CHUNKING',
];

function session(options: Partial<SmtpSessionOptions> = {}) {
  return new SmtpPreAuthSession({
    secure: false,
    starttls: true,
    plaintextLogin: false,
    hostname: 'mmp.example',
    relayExtensions: () => relayExtensions(MTA_EHLO),
    popBeforeSmtp: false,
    maxPipelinedBytes: 65536,
    ...options,
  });
}

function said(actions: PreLoginAction[]): string {
  return actions.map((a) => (a.kind === 'send' ? a.data : `<${a.kind}>`)).join('');
}
const send = (s: SmtpPreAuthSession, text: string) => said(s.receive(Buffer.from(text)));
const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('SMTP submission before AUTH', () => {
  test('EHLO in clear offers STARTTLS and the MTA’s extensions, no AUTH; over TLS AUTH and no STARTTLS', () => {
    assert.equal(said(session().greeting()), '220 mmp.example ESMTP\r\n');
    assert.equal(
      send(session(), 'EHLO client.example\r\n'),
      '250-mmp.example\r\n250-STARTTLS\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250 SIZE 26214400\r\n',
    );
    assert.equal(
      send(session({ secure: true }), 'ehlo client.example\r\n'),
      '250-mmp.example\r\n250-AUTH PLAIN LOGIN\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250 SIZE 26214400\r\n',
    );
  });

  test('AUTH in clear is refused with 538, and no transaction starts without AUTH', () => {
    const s = session();
    send(s, 'EHLO c\r\n');
    assert.equal(
      send(s, `AUTH PLAIN ${encodePlain({ authzid: '', authcid: 'alice', password: 'pw' })}\r\n`),
      '538 5.7.11 Encryption required: use STARTTLS or port 465 first\r\n',
    );
    assert.equal(
      send(s, 'MAIL FROM:<alice@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n'),
      '530 5.7.0 Authentication required\r\n'.repeat(3),
    );
    const secure = session({ secure: true });
    send(secure, 'EHLO c\r\n');
    assert.equal(send(secure, 'RCPT TO:<bob@example.test>\r\n'), '530 5.7.0 Authentication required\r\n');
  });

  test('commands before EHLO get 503; a bad EHLO name 501', () => {
    const s = session({ secure: true });
    assert.equal(send(s, 'AUTH PLAIN\r\n'), '503 5.5.1 Send EHLO first\r\n');
    assert.equal(send(s, 'EHLO two words\r\n'), '501 5.5.4 Give your domain name or address literal\r\n');
  });

  test('STARTTLS discards what was pipelined behind it, and EHLO is needed again', () => {
    const s = session();
    send(s, 'EHLO c\r\n');
    assert.equal(send(s, 'STARTTLS\r\nAUTH PLAIN x\r\n'), '220 2.0.0 Ready to start TLS\r\n<start-tls>');
    assert.deepEqual(s.tlsStarted(), []);
    assert.equal(s.secure, true);
    assert.equal(send(s, 'MAIL FROM:<a@b>\r\n'), '503 5.5.1 Send EHLO first\r\n');
  });

  test('AUTH PLAIN with and without an initial response; another authzid refused; a failure answered', () => {
    const s = session({ secure: true });
    send(s, 'EHLO c\r\n');
    assert.equal(
      send(s, `AUTH PLAIN ${encodePlain({ authzid: 'bob', authcid: 'alice', password: 'pw' })}\r\n`),
      '535 5.7.8 Authenticating as another user is not allowed\r\n',
    );
    assert.equal(send(s, 'AUTH PLAIN\r\n'), '334 \r\n');
    assert.deepEqual(
      s.receive(Buffer.from(`${encodePlain({ authzid: '', authcid: 'alice', password: 'p w' })}\r\n`)),
      [{ kind: 'login', login: 'alice', password: 'p w', helo: 'c' }],
    );
    assert.equal(
      said(s.loginFailed(loginReply('bad-credentials'))),
      '535 5.7.8 Authentication credentials invalid\r\n',
    );
    assert.equal(send(s, 'AUTH PLAIN\r\n*\r\n'), '334 \r\n501 5.7.0 Authentication cancelled\r\n');
  });

  test('AUTH LOGIN asks for the user and the password; success is 235, then the splice with what followed', () => {
    const s = session({ secure: true });
    send(s, 'EHLO c\r\n');
    assert.equal(send(s, 'AUTH LOGIN\r\n'), '334 VXNlcm5hbWU6\r\n');
    assert.equal(send(s, `${b64('alice')}\r\n`), '334 UGFzc3dvcmQ6\r\n');
    assert.deepEqual(s.receive(Buffer.from(`${b64('secret')}\r\nMAIL FROM:<alice@example.test>\r\n`)), [
      { kind: 'login', login: 'alice', password: 'secret', helo: 'c' },
    ]);
    const actions = s.loginSucceeded();
    assert.equal(said(actions), '235 2.7.0 Authentication successful\r\n<splice>');
    const splice = actions[1];
    assert.equal(
      splice?.kind === 'splice' && splice.pipelined.toString(),
      'MAIL FROM:<alice@example.test>\r\n',
    );
  });

  test('POP-before-SMTP: MAIL asks the shell; on success the MAIL itself goes to the MTA, else 530', () => {
    const s = session({ popBeforeSmtp: true });
    send(s, 'EHLO c\r\n');
    assert.deepEqual(s.receive(Buffer.from('MAIL FROM:<alice@example.test>\r\nRCPT TO:<x@y>\r\n')), [
      { kind: 'login-by-address', helo: 'c' },
    ]);
    assert.equal(
      said(s.loginFailed(loginReply('no-recent-login'))),
      '530 5.7.0 Authentication required\r\n530 5.7.0 Authentication required\r\n',
    );
    s.receive(Buffer.from('MAIL FROM:<alice@example.test>\r\nRCPT TO:<x@y>\r\n'));
    const [splice] = s.loginSucceeded();
    assert.equal(
      splice?.kind === 'splice' && splice.pipelined.toString(),
      'MAIL FROM:<alice@example.test>\r\nRCPT TO:<x@y>\r\n',
    );
  });

  test('a huge line is refused and dropped; ten errors end the session; QUIT says 221', () => {
    const s = session();
    assert.equal(send(s, `EHLO ${'x'.repeat(10_000)}`), '');
    assert.equal(
      send(s, `${'y'.repeat(10_000)}\r\nNOOP\r\n`),
      '500 5.5.6 Line too long (over 4096 bytes)\r\n250 2.0.0 OK\r\n',
    );
    let transcript = '';
    for (let i = 0; i < 9; i++) transcript += send(s, 'FOO\r\n');
    assert.match(transcript, /421 4\.7\.0 mmp\.example Too many errors; closing\r\n<close>$/);
    assert.equal(send(session(), 'QUIT\r\n'), '221 2.0.0 mmp.example closing connection\r\n<close>');
  });

  test('too long before AUTH and a drain say 421', () => {
    assert.equal(said(session().timeout()), '421 4.4.2 mmp.example Too long before AUTH; closing\r\n<close>');
    assert.equal(said(session().goodbye()), '421 4.3.2 mmp.example Shutting down; reconnect\r\n<close>');
  });
});
