// The outbound role: authenticated submission on 587 (STARTTLS) and 465 (implicit TLS), checked
// against slapd; local recipients to their stores, legacy ones to the gateway, the rest to a
// smarthost (smtp-sink); XCLIENT from the MMP's proxy only after it proves itself.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../../testing/support/free-ports.ts';
import { run } from '../../../testing/support/processes.ts';
import { waitFor } from '../../../testing/support/wait.ts';
import { startSmtpSink, type SmtpSink } from '../../../testing/peers/smtp-sink.ts';
import { SmtpTranscript } from '../../../testing/peers/smtp-transcript.ts';
import { makeTempDir } from '../../../testing/support/temp-dir.ts';
import { makeSelfSignedCertificate, type TlsFixture } from '../../../testing/peers/tls-fixture.ts';
import { XCLIENT_PROXY_IDENTITY } from '../../lib/auth/proofs.ts';
import { arrived, marker, replyTo, rfc822, smtplibSend, swaks } from '../testing/clients.ts';
import { startMtaProcess, type MtaProcess } from '../testing/mta-process.ts';
import { startTestSite, type TestSite } from '../testing/site.ts';

const temp = makeTempDir('outbound');
const XCLIENT_SECRET = 'proxy-shared-secret-0123456789';
let site: TestSite;
let smarthost: SmtpSink;
let tls: TlsFixture;
let mta: MtaProcess;

async function startOutbound(name: string, peerCidrs?: string[]): Promise<MtaProcess> {
  const dir = join(temp.path, name);
  const submission = await freePort();
  const submissions = await freePort();
  const limits = { maxConnections: 100, maxConnectionsPerClient: 50 };
  return startMtaProcess({
    role: 'outbound',
    dir,
    secrets: {
      'xclient-secret': `${XCLIENT_SECRET}\n`,
      'smarthost-user': 'relayuser\n',
      'smarthost-pass': 'relaypass\n',
    },
    overrides: {
      ...site.overrides(dir),
      common: { tls, hostname: 'smtp.example.test' },
      listeners: [
        {
          name: 'submission',
          protocol: 'submission',
          port: submission,
          tls: 'starttls',
          proxyProtocol: 'none',
          ...limits,
        },
        {
          name: 'submissions',
          protocol: 'submissions',
          port: submissions,
          tls: 'implicit',
          proxyProtocol: 'none',
          ...limits,
        },
      ],
      smarthost: {
        host: '127.0.0.1',
        port: smarthost.port,
        tls: 'opportunistic',
        usernameFile: join(dir, 'smarthost-user'),
        passwordFile: join(dir, 'smarthost-pass'),
      },
      xclient: { secretFile: join(dir, 'xclient-secret'), ...(peerCidrs ? { peerCidrs } : {}) },
      // These tests log in wrongly on purpose, all from 127.0.0.1; the penalties for guessing have
      // their own test (attacks.ptest.ts) and would only slow these down.
      limits: { authFailuresBeforeDelay: 1000, authFailuresBeforeLockout: 1000 },
    },
  });
}

before(async () => {
  site = await startTestSite(join(temp.path, 'site'));
  smarthost = await startSmtpSink(join(temp.path, 'smarthost'));
  tls = await makeSelfSignedCertificate(temp.path, 'smtp.example.test');
  mta = await startOutbound('mta');
});

after(async () => {
  await mta?.stop();
  await smarthost?.stop();
  await site?.stop();
  temp.remove();
});

const submit = (args: string[]) => swaks(mta.ports.submission!, ['--tls', ...args]);
const asAlice = ['--auth', 'PLAIN', '--auth-user', 'alice', '--auth-password', 'alice-pw'];
const base64 = (s: string) => Buffer.from(s).toString('base64');

describe('outbound MTA: submission needs TLS and a login', () => {
  it('offers and takes AUTH only after STARTTLS (RFC 4954 section 4, RFC 8314)', async () => {
    const s = await SmtpTranscript.open(mta.ports.submission!);
    await s.read();
    const ehlo = await s.command('EHLO client.test');
    assert.ok(!ehlo.lines.some((l) => /AUTH/.test(l)), ehlo.lines.join(' | '));
    // Not offered, so not recognised: a client never gets to send a password in clear.
    const auth = await s.command(`AUTH PLAIN ${base64('\0alice\0alice-pw')}`);
    assert.ok(auth.code >= 500 && auth.code < 600, `${auth.code} ${auth.text}`);
    s.close();
  });

  it('refuses mail from a session that has not logged in', async () => {
    const result = await submit([
      '--from',
      'alice@example.test',
      '--to',
      'friend@remote.example',
      '--quit-after',
      'MAIL',
    ]);
    assert.match(replyTo(result, /MAIL FROM/) ?? '', /^530 /);
  });

  const refused: [string, string, string][] = [
    ['a wrong password', 'alice', 'wrong'],
    ['an unknown user', 'mallory', 'alice-pw'],
    ['an LDAP wildcard as the user', '*', 'alice-pw'],
    ['a filter injected in the user name', 'alice)(uid=*', 'alice-pw'],
  ];
  for (const [name, user, password] of refused) {
    it(`refuses ${name} with 535 5.7.8`, async () => {
      const result = await submit([
        '--auth',
        'PLAIN',
        '--auth-user',
        user,
        '--auth-password',
        password,
        '--quit-after',
        'AUTH',
      ]);
      assert.match(result.replies.find((l) => /^535/.test(l)) ?? '', /^535 5\.7\.8 /);
    });
  }

  it('refuses an empty password, which slapd would take as an anonymous bind', async () => {
    const s = await SmtpTranscript.open(mta.ports.submission!);
    await s.read();
    await s.command('EHLO client.test');
    await s.command('STARTTLS');
    await s.startTls();
    await s.command('EHLO client.test');
    assert.equal((await s.command(`AUTH PLAIN ${base64('\0alice\0')}`)).code, 535);
    s.close();
  });

  it('refuses to let one user act as another through the PLAIN authzid', async () => {
    const s = await SmtpTranscript.open(mta.ports.submissions!, { tls: true });
    await s.read();
    await s.command('EHLO client.test');
    assert.equal((await s.command(`AUTH PLAIN ${base64('bob\0alice\0alice-pw')}`)).code, 535);
    s.close();
  });
});

describe('outbound MTA: where submitted mail goes', () => {
  it('relays remote mail from a logged-in user through the smarthost (swaks, AUTH PLAIN, STARTTLS)', async () => {
    const tag = marker();
    const result = await submit([
      ...asAlice,
      '--from',
      'alice@example.test',
      '--to',
      'friend@remote.example',
      '--header',
      `Subject: ${tag}`,
    ]);
    assert.match(result.stdout, /235 2\.7\.0/);
    const message = await arrived(smarthost, tag);
    assert.match(message, /by smtp\.example\.test \(mtopo\) with ESMTPSA id/);
  });

  it("delivers to a local recipient's store (smtplib, AUTH LOGIN, implicit TLS on 465)", async () => {
    const tag = marker();
    const result = await smtplibSend({
      port: mta.ports.submissions!,
      implicitTls: true,
      login: { user: 'bob', password: 'bob-pw' },
      from: 'bob@example.test',
      to: ['alice@example.test'],
      message: rfc822({ from: 'bob@example.test', to: 'alice@example.test', subject: tag }),
    });
    assert.equal(result.ok, true, JSON.stringify(result));
    await arrived(site.storeA, tag);
  });

  it("sends a legacy user's mail to the gateway (curl, STARTTLS)", async () => {
    const tag = marker();
    const result = await run(
      'curl',
      [
        '-sS',
        '--ssl-reqd',
        '-k',
        `smtp://127.0.0.1:${mta.ports.submission}`,
        '--user',
        'alice:alice-pw',
        '--mail-from',
        'alice@example.test',
        '--mail-rcpt',
        'dave@example.test',
        '-T',
        '-',
      ],
      { input: `Subject: ${tag}\r\n\r\nfrom curl\r\n` },
    );
    assert.equal(result.code, 0, result.stderr);
    await arrived(site.gateway, tag);
  });

  it('lets a user send as an alias, and as nobody else', async () => {
    const alias = await submit([
      ...asAlice,
      '--from',
      'a.lias@example.test',
      '--to',
      'friend@remote.example',
      '--quit-after',
      'MAIL',
    ]);
    assert.match(replyTo(alias, /MAIL FROM/) ?? '', /^250 /);
    const forged = await submit([
      ...asAlice,
      '--from',
      'bob@example.test',
      '--to',
      'friend@remote.example',
      '--quit-after',
      'MAIL',
    ]);
    assert.match(replyTo(forged, /MAIL FROM/) ?? '', /^553 5\.7\.1 /);
  });

  it('refuses an unknown local recipient at RCPT, even for a logged-in user', async () => {
    const result = await submit([
      ...asAlice,
      '--from',
      'alice@example.test',
      '--to',
      'ghost@example.test',
      '--quit-after',
      'RCPT',
    ]);
    assert.match(replyTo(result, /RCPT TO/) ?? '', /^550 5\.1\.1 /);
  });
});

describe('outbound MTA: XCLIENT from the MMP proxy', () => {
  async function tlsSession(port: number): Promise<SmtpTranscript> {
    const s = await SmtpTranscript.open(port, { tls: true });
    assert.equal((await s.read()).code, 220);
    return s;
  }

  it('neither offers nor accepts XCLIENT before the proxy proves itself', async () => {
    const s = await tlsSession(mta.ports.submissions!);
    const ehlo = await s.command('EHLO mmp.test');
    assert.ok(!ehlo.lines.some((l) => l.includes('XCLIENT')));
    const xclient = await s.command('XCLIENT ADDR=198.51.100.7 LOGIN=alice');
    assert.ok(xclient.code >= 500, `${xclient.code} ${xclient.text}`);
    s.close();
  });

  it('refuses the proxy identity with a wrong secret', async () => {
    const s = await tlsSession(mta.ports.submissions!);
    await s.command('EHLO mmp.test');
    assert.equal(
      (await s.command(`AUTH PLAIN ${base64(`\0${XCLIENT_PROXY_IDENTITY}\0not-the-secret`)}`)).code,
      535,
    );
    s.close();
  });

  it('lets a proven proxy name the user with XCLIENT, and then sends as that user', async () => {
    const tag = marker();
    const s = await tlsSession(mta.ports.submissions!);
    await s.command('EHLO mmp.test');
    assert.equal(
      (await s.command(`AUTH PLAIN ${base64(`\0${XCLIENT_PROXY_IDENTITY}\0${XCLIENT_SECRET}`)}`)).code,
      235,
    );
    const ehlo = await s.command('EHLO mmp.test');
    assert.ok(
      ehlo.lines.some((l) => l.includes('XCLIENT')),
      ehlo.lines.join(' | '),
    );
    // The proxy identity itself sends nothing.
    assert.equal((await s.command('MAIL FROM:<alice@example.test>')).code, 530);
    assert.equal((await s.command('XCLIENT ADDR=198.51.100.7 NAME=client.example LOGIN=alice')).code, 220);
    await s.command('EHLO client.example');
    assert.equal((await s.command('MAIL FROM:<alice@example.test>')).code, 250);
    assert.equal((await s.command('RCPT TO:<friend@remote.example>')).code, 250);
    assert.equal((await s.command('DATA')).code, 354);
    assert.equal((await s.command(`Subject: ${tag}\r\n\r\nvia the proxy\r\n.`)).code, 250);
    s.close();
    const message = await arrived(smarthost, tag);
    assert.match(message, /Received: from client\.example \(client\.example \[198\.51\.100\.7\]\)/);
  });

  it('still holds the user to their own addresses after XCLIENT', async () => {
    const s = await tlsSession(mta.ports.submissions!);
    await s.command('EHLO mmp.test');
    await s.command(`AUTH PLAIN ${base64(`\0${XCLIENT_PROXY_IDENTITY}\0${XCLIENT_SECRET}`)}`);
    await s.command('XCLIENT ADDR=198.51.100.7 LOGIN=alice');
    await s.command('EHLO client.example');
    assert.match((await s.command('MAIL FROM:<bob@example.test>')).lines[0] ?? '', /^553 5\.7\.1 /);
    s.close();
  });

  it('refuses XCLIENT LOGIN for a user the directory does not know', async () => {
    const s = await tlsSession(mta.ports.submissions!);
    await s.command('EHLO mmp.test');
    await s.command(`AUTH PLAIN ${base64(`\0${XCLIENT_PROXY_IDENTITY}\0${XCLIENT_SECRET}`)}`);
    const reply = await s.command('XCLIENT ADDR=198.51.100.7 LOGIN=mallory');
    assert.equal(reply.code, 550);
    s.close();
  });

  it("refuses the right secret from an address outside the proxy's network", async () => {
    const walled = await startOutbound('walled', ['10.0.0.0/8']);
    try {
      const s = await tlsSession(walled.ports.submissions!);
      await s.command('EHLO mmp.test');
      assert.equal(
        (await s.command(`AUTH PLAIN ${base64(`\0${XCLIENT_PROXY_IDENTITY}\0${XCLIENT_SECRET}`)}`)).code,
        535,
      );
      s.close();
    } finally {
      await walled.stop();
    }
  });
});

describe('outbound MTA: implicit TLS', () => {
  it('speaks no plain text on the implicit TLS port', async () => {
    const s = await SmtpTranscript.open(mta.ports.submissions!);
    await assert.rejects(s.read(1000));
    s.close();
    await waitFor('nothing', () => true);
  });
});
