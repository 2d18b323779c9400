// Transcripts of the MMP's IMAP conversation before login: what a client sends, what it is told.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loginReply } from '../routing/login-replies.ts';
import { encodePlain } from '../sasl-plain.ts';
import { ImapPreLoginSession, type ImapAction, type ImapSessionOptions } from './imap-session.ts';

const DOVECOT_CAPABILITIES = [
  'IMAP4rev1',
  'SASL-IR',
  'LOGIN-REFERRALS',
  'ID',
  'ENABLE',
  'IDLE',
  'SORT',
  'THREAD=REFERENCES',
  'MULTIAPPEND',
  'UNSELECT',
  'CHILDREN',
  'NAMESPACE',
  'UIDPLUS',
  'LIST-EXTENDED',
  'I18NLEVEL=1',
  'CONDSTORE',
  'QRESYNC',
  'ESEARCH',
  'SEARCHRES',
  'WITHIN',
  'CONTEXT=SEARCH',
  'LIST-STATUS',
  'BINARY',
  'MOVE',
  'SNIPPET=FUZZY',
  'LITERAL+',
  'NOTIFY',
  'SPECIAL-USE',
  'COMPRESS=DEFLATE',
  'AUTH=PLAIN',
];

function session(options: Partial<ImapSessionOptions> = {}) {
  return new ImapPreLoginSession({
    secure: false,
    starttls: true,
    plaintextLogin: false,
    storeCapabilities: DOVECOT_CAPABILITIES,
    maxPipelinedBytes: 65536,
    ...options,
  });
}

/** What the client reads: every send joined, close marked. */
function said(actions: ImapAction[]): string {
  return actions.map((a) => (a.kind === 'send' ? a.data : `<${a.kind}>`)).join('');
}

const send = (s: ImapPreLoginSession, text: string) => said(s.receive(Buffer.from(text)));

describe('IMAP before login', () => {
  test('the greeting advertises the store capabilities, with STARTTLS and LOGINDISABLED in clear', () => {
    const greeting = said(session().greeting());
    assert.match(greeting, /^\* OK \[CAPABILITY IMAP4rev1 SASL-IR ID STARTTLS LOGINDISABLED ENABLE IDLE /);
    assert.match(greeting, /COMPRESS=DEFLATE\] IMAP proxy ready\r\n$/);
    assert.doesNotMatch(greeting, /LOGIN-REFERRALS|AUTH=PLAIN/);
  });

  test('over TLS, AUTH=PLAIN replaces LOGINDISABLED and STARTTLS disappears', () => {
    const s = session({ secure: true });
    const reply = send(s, 'a CAPABILITY\r\n');
    assert.match(reply, /^\* CAPABILITY IMAP4rev1 SASL-IR ID AUTH=PLAIN ENABLE /);
    assert.doesNotMatch(reply, /STARTTLS|LOGINDISABLED/);
    assert.match(reply, /a OK CAPABILITY completed\r\n$/);
  });

  test('NOOP, ID and LOGOUT are answered by the MMP itself', () => {
    const s = session();
    assert.equal(send(s, 'a NOOP\r\n'), 'a OK NOOP completed\r\n');
    assert.equal(
      send(s, 'b ID ("name" "imaplib" "version" NIL)\r\n'),
      '* ID ("name" "mtopo-mmp")\r\nb OK ID completed\r\n',
    );
    assert.equal(send(s, 'c LOGOUT\r\n'), '* BYE Logging out\r\nc OK LOGOUT completed\r\n<close>');
  });

  test('LOGIN in clear is refused with PRIVACYREQUIRED and checks nothing', () => {
    assert.equal(
      send(session(), 'a LOGIN alice secret\r\n'),
      'a NO [PRIVACYREQUIRED] Use STARTTLS or port 993 first\r\n',
    );
  });

  test('commands pipelined after STARTTLS are discarded, not run after the handshake', () => {
    const s = session();
    const actions = s.receive(Buffer.from('a STARTTLS\r\nb LOGIN alice secret\r\n'));
    assert.equal(said(actions), 'a OK Begin TLS negotiation now\r\n<start-tls>');
    assert.deepEqual(s.tlsStarted(), []);
    assert.equal(s.secure, true);
    assert.equal(send(s, 'c NOOP\r\n'), 'c OK NOOP completed\r\n');
  });

  test('STARTTLS twice is refused', () => {
    const s = session({ secure: true });
    assert.equal(send(s, 'a STARTTLS\r\n'), 'a BAD TLS is already active\r\n');
  });

  test('LOGIN over TLS hands the credentials to the shell, and a failure is answered with its code', () => {
    const s = session({ secure: true });
    const actions = s.receive(Buffer.from('a LOGIN "alice" {6}\r\n'));
    assert.equal(said(actions), '+ Ready for literal data\r\n');
    assert.deepEqual(s.receive(Buffer.from('s3cr t\r\n')), [
      { kind: 'login', tag: 'a', login: 'alice', password: 's3cr t' },
    ]);
    assert.equal(
      said(s.loginFailed(loginReply('bad-credentials'), 'a')),
      'a NO [AUTHENTICATIONFAILED] Authentication failed\r\n',
    );
    assert.equal(send(s, 'b NOOP\r\n'), 'b OK NOOP completed\r\n');
  });

  test('what the client pipelines behind its LOGIN waits, and goes to the store after it', () => {
    const s = session({ secure: true });
    const actions = s.receive(Buffer.from('a LOGIN alice secret\r\nb SELECT INBOX\r\nc FETCH 1 (FLAGS)\r\n'));
    assert.deepEqual(actions, [{ kind: 'login', tag: 'a', login: 'alice', password: 'secret' }]);
    assert.deepEqual(s.receive(Buffer.from('d IDLE\r\n')), []);
    const [splice] = s.loginSucceeded();
    assert.equal(splice?.kind, 'splice');
    assert.equal(
      splice?.kind === 'splice' && splice.pipelined.toString(),
      'b SELECT INBOX\r\nc FETCH 1 (FLAGS)\r\nd IDLE\r\n',
    );
  });

  test('AUTHENTICATE PLAIN with an initial response (SASL-IR)', () => {
    const s = session({ secure: true });
    const ir = encodePlain({ authzid: '', authcid: 'alice', password: 'secret' });
    assert.deepEqual(s.receive(Buffer.from(`a AUTHENTICATE PLAIN ${ir}\r\n`)), [
      { kind: 'login', tag: 'a', login: 'alice', password: 'secret' },
    ]);
  });

  test('AUTHENTICATE PLAIN with a continuation, and a cancelled one', () => {
    const s = session({ secure: true });
    assert.equal(send(s, 'a AUTHENTICATE PLAIN\r\n'), '+ \r\n');
    assert.deepEqual(
      s.receive(Buffer.from(`${encodePlain({ authzid: 'alice', authcid: 'alice', password: 'x' })}\r\n`)),
      [{ kind: 'login', tag: 'a', login: 'alice', password: 'x' }],
    );
    const t = session({ secure: true });
    assert.equal(send(t, 'a AUTHENTICATE PLAIN\r\n'), '+ \r\n');
    assert.equal(send(t, '*\r\n'), 'a BAD AUTHENTICATE cancelled\r\n');
  });

  test('an authzid naming another user is refused (no logging in as someone else)', () => {
    const s = session({ secure: true });
    const ir = encodePlain({ authzid: 'bob', authcid: 'alice', password: 'secret' });
    assert.equal(
      send(s, `a AUTHENTICATE PLAIN ${ir}\r\n`),
      'a NO [AUTHORIZATIONFAILED] Logging in as another user is not allowed\r\n',
    );
  });

  test('other mechanisms and broken base64 are refused', () => {
    const s = session({ secure: true });
    assert.equal(send(s, 'a AUTHENTICATE CRAM-MD5\r\n'), 'a NO Unsupported authentication mechanism\r\n');
    assert.equal(send(s, 'b AUTHENTICATE PLAIN !!!!\r\n'), 'b BAD Invalid base64\r\n');
  });

  test('unknown commands, commands of later states and wrong arity get BAD', () => {
    const s = session({ secure: true });
    assert.equal(send(s, 'a SELECT INBOX\r\n'), 'a BAD Unknown command or not valid before login\r\n');
    assert.equal(send(s, 'b LOGIN alice\r\n'), 'b BAD LOGIN: Expected 2 arguments, got 1\r\n');
    assert.equal(send(s, 'c NOOP extra\r\n'), 'c BAD NOOP: Expected 0 arguments, got 1\r\n');
    assert.equal(send(s, 'LOGIN\r\n'), 'LOGIN BAD Missing or invalid command name\r\n');
    assert.equal(send(s, '+ NOOP\r\n'), '* BAD Missing or invalid tag\r\n');
  });

  test('ten bad commands end the session', () => {
    const s = session();
    let transcript = '';
    for (let i = 0; i < 10; i++) transcript += send(s, `t${i} FOO\r\n`);
    assert.match(transcript, /\* BYE Too many invalid commands\r\n<close>$/);
    assert.deepEqual(s.receive(Buffer.from('x NOOP\r\n')), []);
  });

  test('an overlong line is refused and dropped as it arrives, and the session goes on', () => {
    const s = session();
    assert.equal(send(s, `a LOGIN ${'x'.repeat(5000)}`), '');
    assert.equal(send(s, `${'y'.repeat(5000)}`), '');
    assert.equal(
      send(s, `${'z'.repeat(20_000)}\r\nb NOOP\r\n`),
      'a BAD Command line too long (over 8192 bytes)\r\nb OK NOOP completed\r\n',
    );
    assert.equal(send(s, 'c '.repeat(50_000)), '* BYE Too much unparseable input, closing\r\n<close>');
  });

  test('a synchronizing literal over the limit is refused before the client sends it', () => {
    const s = session({ secure: true });
    assert.equal(send(s, 'a LOGIN {5000}\r\n'), 'a BAD [TOOBIG] Literal over the limit of 4096 bytes\r\n');
    assert.equal(send(s, 'b NOOP\r\n'), 'b OK NOOP completed\r\n');
  });

  test('a non-synchronizing literal without LITERAL+ is refused and its bytes never run as commands', () => {
    const s = session({ secure: true, storeCapabilities: ['IMAP4rev1', 'IDLE'] });
    assert.doesNotMatch(said(s.greeting()), /LITERAL/);
    // The literal's 12 bytes look like a command; they must be dropped, not run.
    const reply = send(s, 'a LOGIN alice {12+}\r\nx LOGOUT\r\n..\r\nb NOOP\r\n');
    assert.equal(reply, 'a BAD Non-synchronizing literals are not supported\r\nb OK NOOP completed\r\n');
  });

  test('with LITERAL+ advertised, a non-synchronizing literal is read without a continuation', () => {
    const s = session({ secure: true });
    assert.deepEqual(s.receive(Buffer.from('a LOGIN alice {6+}\r\nsecret\r\n')), [
      { kind: 'login', tag: 'a', login: 'alice', password: 'secret' },
    ]);
  });

  test('a huge non-synchronizing literal ends the session', () => {
    const s = session({ secure: true });
    assert.equal(
      send(s, 'a LOGIN alice {99999999+}\r\n'),
      '* BYE [TOOBIG] Literal too large, closing\r\n<close>',
    );
  });

  test('too much pipelined behind a login ends the session', () => {
    const s = session({ secure: true, maxPipelinedBytes: 100 });
    s.receive(Buffer.from('a LOGIN alice secret\r\n'));
    assert.equal(send(s, 'x'.repeat(200)), '* BYE Too much input while logging in\r\n<close>');
  });

  test('timeout and drain say BYE with UNAVAILABLE', () => {
    assert.equal(
      said(session().timeout()),
      '* BYE [UNAVAILABLE] Autologout; too long before login\r\n<close>',
    );
    assert.equal(said(session().goodbye()), '* BYE [UNAVAILABLE] Server shutting down; reconnect\r\n<close>');
  });
});
