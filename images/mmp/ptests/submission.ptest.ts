// The MMP's SMTP submission proxy against real peers: our outbound MTA (images/mta, as its own
// protocol tests run it) with smtp-sink as its smarthost, slapd as the directory, Dovecot as the
// store a POP-before-SMTP login goes to, and clients no one here wrote: swaks, Python's smtplib,
// curl. The MMP runs on the config rendered for examples/siroe.yaml (submission on, POP-before-SMTP
// on), localized to loopback. Client addresses other than 127.0.0.1 come from binding the client to
// 127.0.0.2, 127.0.0.3 ... so that what the MTA sees can only have come through XCLIENT.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { directoryConfig, USERS } from '../../../testing/peers/directory-fixture.ts';
import { startDovecot, type Dovecot } from '../../../testing/peers/dovecot.ts';
import { startSlapd, type Slapd } from '../../../testing/peers/slapd.ts';
import { SmtpTranscript } from '../../../testing/peers/smtp-transcript.ts';
import { startSmtpSink, type SmtpSink } from '../../../testing/peers/smtp-sink.ts';
import { makeSelfSignedCertificate, type TlsFixture } from '../../../testing/peers/tls-fixture.ts';
import { freePort } from '../../../testing/support/free-ports.ts';
import { run } from '../../../testing/support/processes.ts';
import { makeTempDir } from '../../../testing/support/temp-dir.ts';
import { waitFor } from '../../../testing/support/wait.ts';
import { arrived, count, marker, replyTo, rfc822, smtplibSend, swaks } from '../../mta/testing/clients.ts';
import { startMtaProcess, type MtaProcess } from '../../mta/testing/mta-process.ts';
import { startMmpProcess, type MmpProcess } from '../testing/mmp-process.ts';
import { localize, onlySiroeStoreZero, renderedMmpConfig } from '../testing/rendered-config.ts';

const STORE_SECRET = 'store-proxy-secret-for-tests';
const XCLIENT_SECRET = 'xclient-secret-for-submission-tests';
/** A user whose uid is not their address: the MTA must know them by what the MMP passes on. */
const IVY = { uid: 'ivy', password: 'ivy-pw', mail: 'ivy.smith@example.test', mailHost: 'siroe-store-0' };

const b64 = (text: string) => Buffer.from(text).toString('base64');
/** Descriptors a process holds open: what a session left behind would show in. */
const openFds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;
/** How long the `slow` MMP gives a client from connect to AUTH, and the MTA gives DATA. */
const PRE_LOGIN_MS = 3000;
const DATA_SECONDS = 4;

describe('the MMP as SMTP submission proxy in front of our outbound MTA', () => {
  const dir = makeTempDir('mmp-submission');
  let slapd: Slapd;
  let store: Dovecot;
  let smarthost: SmtpSink;
  let mtaTls: TlsFixture;
  let mta: MtaProcess;
  let mmp: MmpProcess;
  let wrongSecret: MmpProcess;
  let slow: MmpProcess;

  async function startMmp(
    name: string,
    xclientSecret: string,
    popBeforeSmtpSeconds: number,
    preLoginTimeoutMs?: number,
  ) {
    const mmpDir = join(dir.path, name);
    mkdirSync(mmpDir, { recursive: true });
    const config = await localize(renderedMmpConfig('siroe'), {
      dir: mmpDir,
      directory: directoryConfig(slapd, mmpDir, { cacheTTLSeconds: 60 }),
      stores: await onlySiroeStoreZero({ imapPort: store.imapPort, pop3Port: store.pop3Port }),
      tls: await makeSelfSignedCertificate(mmpDir, 'mmp.example.test'),
      proxySecret: STORE_SECRET,
      pop3Capabilities: ['TOP', 'UIDL', 'RESP-CODES', 'PIPELINING', 'AUTH-RESP-CODE'],
      smtpProxy: { host: '127.0.0.1', port: mta.ports.submission!, caFile: mtaTls.certFile, xclientSecret },
      popBeforeSmtpSeconds,
      limits: { badGuy: { freeFailures: 1, maxFailures: 3, decaySeconds: 60, penaltySeconds: 60 } },
    });
    return startMmpProcess(config, mmpDir, 50, preLoginTimeoutMs ? { preLoginTimeoutMs } : {});
  }

  before(async () => {
    mkdirSync(join(dir.path, 'mta'), { recursive: true });
    [slapd, store, smarthost, mtaTls] = await Promise.all([
      startSlapd(join(dir.path, 'slapd'), [...USERS, IVY]),
      startDovecot(join(dir.path, 'store'), {
        master: { name: 'mmp', password: STORE_SECRET },
        // Keyed by the account's primary address, as the MMP logs in and the MTAs deliver.
        users: [{ name: IVY.mail, inbox: ['ivy on store-0'] }],
      }),
      startSmtpSink(join(dir.path, 'smarthost')),
      makeSelfSignedCertificate(join(dir.path, 'mta'), 'smtp.example.test'),
    ]);
    const mtaDir = join(dir.path, 'mta');
    mta = await startMtaProcess({
      role: 'outbound',
      dir: mtaDir,
      secrets: { 'xclient-secret': `${XCLIENT_SECRET}\n` },
      overrides: {
        directory: directoryConfig(slapd, mtaDir, { cacheTTLSeconds: 2 }),
        stores: {},
        common: { tls: mtaTls, hostname: 'smtp.example.test' },
        // The slow client's test waits for it (the default is 10 minutes).
        limits: { dataTimeoutSeconds: DATA_SECONDS },
        listeners: [
          {
            name: 'submission',
            protocol: 'submission',
            port: await freePort(),
            tls: 'starttls',
            proxyProtocol: 'none',
            maxConnections: 100,
            maxConnectionsPerClient: 50,
          },
        ],
        smarthost: { host: '127.0.0.1', port: smarthost.port, tls: 'opportunistic' },
        xclient: { secretFile: join(mtaDir, 'xclient-secret') },
      },
    });
    [mmp, wrongSecret, slow] = await Promise.all([
      startMmp('mmp', XCLIENT_SECRET, 3),
      startMmp('wrong-secret', 'not-the-secret', 0),
      startMmp('slow', XCLIENT_SECRET, 0, PRE_LOGIN_MS),
    ]);
  });

  after(async () => {
    await Promise.all([mmp?.stop(), wrongSecret?.stop(), slow?.stop()]);
    await mta?.stop();
    await Promise.all([slapd?.stop(), store?.stop(), smarthost?.stop()]);
    dir.remove();
  });

  test('swaks: STARTTLS on 587, AUTH PLAIN by uid; the MTA sees the client address and the user', async () => {
    const tag = marker();
    const result = await swaks(mmp.ports.submission!, [
      '--local-interface',
      '127.0.0.2',
      '--ehlo',
      'laptop.client.test',
      '--tls',
      '--auth',
      'PLAIN',
      '--auth-user',
      'ivy',
      '--auth-password',
      'ivy-pw',
      '--from',
      IVY.mail,
      '--to',
      'friend@remote.example',
      '--header',
      `Subject: ${tag}`,
    ]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    // The extensions the client saw before AUTH are the MTA's (its SIZE), with the MMP's AUTH.
    assert.match(result.stdout, /250-AUTH PLAIN LOGIN/);
    const message = await arrived(smarthost, tag);
    // Received by the MTA from the client's address and EHLO name, authenticated (ESMTPSA).
    assert.match(
      message,
      /Received: from laptop\.client\.test \([^)]*\[127\.0\.0\.2\]\)\r?\n\tby smtp\.example\.test \(mtopo\) with ESMTPSA/,
    );
  });

  test('smtplib: implicit TLS on 465, the user by address; the MTA holds them to their own addresses', async () => {
    const tag = marker();
    const sent = await smtplibSend({
      port: mmp.ports.submissions!,
      implicitTls: true,
      login: { user: IVY.mail, password: IVY.password },
      from: IVY.mail,
      to: ['friend@remote.example'],
      message: rfc822({ from: IVY.mail, to: 'friend@remote.example', subject: tag }),
    });
    assert.deepEqual(sent, { ok: true, refused: {} });
    await arrived(smarthost, tag);
    // The MTA knows who the session is for: another user's address is not ivy's to send from.
    const forged = await smtplibSend({
      port: mmp.ports.submissions!,
      implicitTls: true,
      login: { user: 'ivy', password: IVY.password },
      from: 'bob@example.test',
      to: ['friend@remote.example'],
      message: rfc822({ from: 'bob@example.test', to: 'friend@remote.example', subject: 'forged' }),
    });
    assert.equal(forged.ok, false);
    assert.equal(forged.code, 553, JSON.stringify(forged));
  });

  test('swaks AUTH LOGIN works; a wrong password is 535', async () => {
    const ok = await swaks(mmp.ports.submissions!, [
      '--tls-on-connect',
      '--auth',
      'LOGIN',
      '--auth-user',
      'ivy',
      '--auth-password',
      'ivy-pw',
      '--from',
      IVY.mail,
      '--to',
      'friend@remote.example',
      '--quit-after',
      'RCPT',
    ]);
    assert.match(replyTo(ok, /RCPT TO/) ?? '', /^250 /, ok.stdout);
    const wrong = await swaks(mmp.ports.submissions!, [
      '--tls-on-connect',
      '--auth',
      'PLAIN',
      '--auth-user',
      'bob',
      '--auth-password',
      'not-bobs',
      '--quit-after',
      'AUTH',
    ]);
    assert.match(wrong.stdout, /535 5\.7\.8/);
  });

  test('before TLS no AUTH is offered and AUTH is refused; without AUTH no recipient, local or remote', async () => {
    const s = await SmtpTranscript.open(mmp.ports.submission!);
    assert.equal((await s.read()).code, 220);
    const ehlo = await s.command('EHLO scanner.test');
    // Asked at start: the MTA's own extensions and limits (its SIZE), the MMP's STARTTLS, no AUTH.
    const keywords = ehlo.lines.map((l) => l.slice(4));
    assert.ok(!keywords.some((l) => l.startsWith('AUTH')), keywords.join(' | '));
    assert.ok(keywords.includes('STARTTLS'), keywords.join(' | '));
    assert.ok(
      keywords.some((l) => /^SIZE \d+$/.test(l)),
      keywords.join(' | '),
    );
    assert.equal((await s.command(`AUTH PLAIN ${b64('\0ivy\0ivy-pw')}`)).code, 538);
    s.close();
    const before = smarthost.messages().length;
    for (const to of [IVY.mail, 'friend@remote.example']) {
      const result = await swaks(mmp.ports.submission!, [
        '--local-interface',
        '127.0.0.9',
        '--tls',
        '--from',
        'spam@elsewhere.example',
        '--to',
        to,
      ]);
      assert.match(replyTo(result, /MAIL FROM/) ?? '', /^530 5\.7\.0 /, result.stdout);
    }
    assert.equal(smarthost.messages().length, before);
  });

  test('POP-before-SMTP: a POP login from an address lets it send for a while, then no longer', async () => {
    // ivy logs in by POP3 (curl) from 127.0.0.3, through the MMP, at her store.
    const pop = await run('curl', [
      '-sk',
      '--max-time',
      '20',
      '--interface',
      '127.0.0.3',
      '-u',
      `ivy:${IVY.password}`,
      `pop3s://127.0.0.1:${mmp.ports.pop3s}/1`,
    ]);
    assert.equal(pop.code, 0, pop.stderr);
    assert.match(pop.stdout, /Subject: ivy on store-0/);
    const tag = marker();
    const send = (from: string, subject: string) =>
      swaks(mmp.ports.submission!, [
        '--local-interface',
        from,
        '--tls',
        '--from',
        IVY.mail,
        '--to',
        'friend@remote.example',
        '--header',
        `Subject: ${subject}`,
      ]);
    const inside = await send('127.0.0.3', tag);
    assert.equal(inside.code, 0, inside.stdout);
    const message = await arrived(smarthost, tag);
    assert.match(message, /\[127\.0\.0\.3\]\)\r?\n\tby smtp\.example\.test \(mtopo\) with ESMTPSA/);
    // Another address has no POP login behind it.
    assert.match(replyTo(await send('127.0.0.4', 'no'), /MAIL FROM/) ?? '', /^530 /);
    // The window (3 s here) runs out.
    await waitFor(
      'the POP-before-SMTP window to close',
      async () => /^530 /.test(replyTo(await send('127.0.0.3', 'late'), /MAIL FROM/) ?? ''),
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    const after = marker();
    assert.match(replyTo(await send('127.0.0.3', after), /MAIL FROM/) ?? '', /^530 /);
    assert.equal(count(smarthost, after), 0);
  });

  test('guessing passwords: after the free failures each answer waits, then the address is locked out', async () => {
    const s = await SmtpTranscript.open(mmp.ports.submissions!, { tls: true });
    await s.read();
    await s.command('EHLO guesser.test');
    const codes: number[] = [];
    for (let i = 0; i < 4; i++)
      codes.push((await s.command(`AUTH PLAIN ${b64(`\0bob\0guess-${i}`)}`, 30_000)).code);
    // An earlier test failed once for bob from this address: the lockout may come one sooner.
    assert.equal(codes[0], 535, codes.join());
    const locked = codes.indexOf(454);
    assert.ok(locked >= 2, codes.join());
    assert.ok(
      codes.slice(locked).every((c) => c === 454),
      codes.join(),
    );
    // Locked out: even the right password is not checked now.
    assert.equal((await s.command(`AUTH PLAIN ${b64('\0bob\0bob-pw')}`, 30_000)).code, 454);
    s.close();
  });

  test('hostile input: a huge line is refused and dropped, the session goes on; errors end it', async () => {
    const s = await SmtpTranscript.open(mmp.ports.submission!);
    await s.read();
    await s.writeDrained(`EHLO ${'x'.repeat(200_000)}\r\n`);
    assert.equal((await s.read()).code, 500);
    assert.equal((await s.command('NOOP')).code, 250);
    // The overlong line was the first error; nine more end the session.
    const codes: number[] = [];
    for (let i = 0; i < 9; i++) codes.push((await s.command('WHAT')).code);
    assert.deepEqual(codes, Array(9).fill(500));
    assert.equal((await s.read()).code, 421);
    await waitFor('the MMP to close', () => s.closed);
  });

  test('an MMP without the right XCLIENT secret is refused by the MTA: the client gets 454, never a relay', async () => {
    const result = await swaks(wrongSecret.ports.submissions!, [
      '--tls-on-connect',
      '--auth',
      'PLAIN',
      '--auth-user',
      'ivy',
      '--auth-password',
      'ivy-pw',
      '--from',
      IVY.mail,
      '--to',
      'friend@remote.example',
      '--quit-after',
      'RCPT',
    ]);
    assert.match(replyTo(result, /AUTH/) ?? '', /^454 4\.7\.0 /, result.stdout);
    await waitFor('the error log', () =>
      wrongSecret.logs().some((l) => String(l.msg).includes('the outbound MTA refused the MMP')),
    );
  });

  // Slow clients: one that trickles bytes before AUTH, one that never ends DATA. Each is ended in
  // bounded time with SMTP's 421 4.4.2, and the MMP holds nothing for it afterwards (no session in
  // its gauge, no descriptor left open).
  const sessionsGone = async (what: string, fdsBefore: number) => {
    await waitFor(`${what}: the MMP's SMTP sessions back to none`, async () => {
      const open = await slow.metric('mtopo_mmp_sessions', { protocol: 'smtp' });
      return open === 0;
    });
    await waitFor(
      `${what}: the MMP's descriptors back to ${fdsBefore}`,
      () => openFds(slow.process.pid) <= fdsBefore,
    );
  };

  test('a client trickling bytes before AUTH is cut at the login deadline with 421 4.4.2, whatever it sends', async () => {
    const fdsBefore = openFds(slow.process.pid);
    const s = await SmtpTranscript.open(slow.ports.submission!);
    const begun = Date.now();
    assert.equal((await s.read()).code, 220);
    // One byte every 200 ms: whole NOOPs now and then (each answered), never an AUTH.
    const bytes = 'NOOP\r\n';
    let i = 0;
    const trickle = setInterval(() => s.write(bytes[i++ % bytes.length]!), 200);
    const replies: number[] = [];
    let last;
    try {
      for (;;) {
        last = await s.read(PRE_LOGIN_MS + 15_000);
        replies.push(last.code);
        if (last.code !== 250) break;
      }
    } finally {
      clearInterval(trickle);
    }
    const took = Date.now() - begun;
    assert.equal(last.code, 421, replies.join());
    assert.match(last.text, /^4\.4\.2 .*Too long before AUTH/);
    assert.ok(replies.length > 1, `the NOOPs were answered before the deadline: ${replies.join()}`);
    assert.ok(took >= PRE_LOGIN_MS - 500 && took < PRE_LOGIN_MS + 10_000, `cut after ${took} ms`);
    await waitFor('the MMP to close the connection', () => s.closed);
    await sessionsGone('after the trickler', fdsBefore);
  });

  test('a client that never ends DATA is cut by the MTA, its 421 passed on, both connections closed', async () => {
    // A first login opens what every later one shares (the directory's connections): counted in
    // the baseline, not against the slow session.
    const first = await SmtpTranscript.open(slow.ports.submissions!, { tls: true });
    await first.read();
    await first.command('EHLO warm.client.test');
    assert.equal((await first.command(`AUTH PLAIN ${b64('\0ivy\0ivy-pw')}`, 30_000)).code, 235);
    await first.command('QUIT');
    await waitFor('the first session to end', () => first.closed);
    await sessionsGone('after the first login', Infinity);
    const fdsBefore = openFds(slow.process.pid);
    const tag = marker();
    const s = await SmtpTranscript.open(slow.ports.submissions!, { tls: true });
    assert.equal((await s.read()).code, 220);
    assert.equal((await s.command('EHLO slow.client.test')).code, 250);
    assert.equal((await s.command(`AUTH PLAIN ${b64('\0ivy\0ivy-pw')}`, 30_000)).code, 235);
    assert.equal((await s.command(`MAIL FROM:<${IVY.mail}>`)).code, 250);
    assert.equal((await s.command('RCPT TO:<friend@remote.example>')).code, 250);
    assert.equal((await s.command('DATA')).code, 354);
    const begun = Date.now();
    s.write(`Subject: ${tag}\r\n`);
    // A header line every 300 ms, never the final dot: the MTA's whole-DATA deadline ends it.
    const trickle = setInterval(() => s.write('X-Slow: still here\r\n'), 300);
    const reply = await s.read(DATA_SECONDS * 1000 + 20_000).finally(() => clearInterval(trickle));
    const took = Date.now() - begun;
    assert.equal(reply.code, 421, reply.text);
    assert.match(reply.text, /^4\.4\.2 The message took too long/);
    assert.ok(
      took >= DATA_SECONDS * 1000 - 1500 && took < DATA_SECONDS * 1000 + 15_000,
      `cut after ${took} ms`,
    );
    await waitFor('the MMP to close the client side', () => s.closed);
    await sessionsGone('after the endless DATA', fdsBefore);
    assert.equal(count(smarthost, tag), 0);
  });
});
