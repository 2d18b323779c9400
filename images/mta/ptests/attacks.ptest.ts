// The MTA under attack (issue 9), each tier on the config `mtopo render -f examples/siroe.yaml`
// writes for it, with the limit a test is about lowered so that it takes seconds: a stranger
// filling the disk with one message, slow clients holding the connection slots, a password
// guesser, a directory harvester, a client hanging up mid-message. The attackers are raw sockets
// and Python's smtplib; the real senders swaks.
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MtaConfig } from '../../lib/contract/mta.ts';
import { run } from '../../../testing/support/processes.ts';
import { waitFor } from '../../../testing/support/wait.ts';
import { startSmtpSink, type SmtpSink } from '../../../testing/peers/smtp-sink.ts';
import { SmtpTranscript } from '../../../testing/peers/smtp-transcript.ts';
import { makeTempDir } from '../../../testing/support/temp-dir.ts';
import { marker, swaks } from '../testing/clients.ts';
import { startMtaFromConfig, type MtaProcess } from '../testing/mta-process.ts';
import { hopKey, localize, renderedConfig, type LocalEnvironment } from '../testing/rendered-site.ts';
import { startSiroeSite, type SiroeSite } from '../testing/siroe-site.ts';

const temp = makeTempDir('attacks');
const MiB = 1024 * 1024;
let inboundStandIn: SmtpSink;
let refusingInbound: SmtpSink;
const started: MtaProcess[] = [];

before(async () => {
  inboundStandIn = await startSmtpSink(join(temp.path, 'inbound'));
  // An inbound tier that knows nobody: every recipient the edge asks about is refused (5xx).
  refusingInbound = await startSmtpSink(join(temp.path, 'refusing'), { extraArgs: ['-f', 'RCPT'] });
});

after(async () => {
  await Promise.all(started.map((m) => m.stop()));
  await Promise.all([inboundStandIn?.stop(), refusingInbound?.stop()]);
  temp.remove();
});

async function edge(name: string, env: Partial<LocalEnvironment> = {}, inbound = inboundStandIn) {
  const rendered = renderedConfig('internet');
  const dir = join(temp.path, name);
  const config = await localize(rendered, {
    dir,
    hops: { [hopKey(rendered.relayTo)]: inbound.port },
    ...env,
  });
  const mta = await startMtaFromConfig({ config, dir });
  started.push(mta);
  return { mta, config };
}

async function greeted(port: number): Promise<SmtpTranscript> {
  const s = await SmtpTranscript.open(port);
  assert.equal((await s.read()).code, 220);
  return s;
}

/** Bytes in the spool's files (tmp/ and queue/). */
function spoolBytes(config: MtaConfig): number {
  let total = 0;
  for (const sub of ['tmp', 'queue']) {
    const dir = join(config.queue.dir, sub);
    try {
      for (const f of readdirSync(dir)) {
        try {
          total += statSync(join(dir, f)).size;
        } catch {
          // renamed or removed meanwhile
        }
      }
    } catch {
      // not there yet
    }
  }
  return total;
}

const legitimate = (port: number) =>
  swaks(port, [
    '--from',
    'someone@elsewhere.example',
    '--to',
    'alice@siroe.example',
    '--header',
    `Subject: ${marker()}`,
  ]);

describe('one stranger filling the disk (item 1)', () => {
  it('writes nothing past the size limit, discards the rest, answers 552 at the dot, and takes the next message', async () => {
    const { mta, config } = await edge('size', { limits: { maxMessageBytes: 1 * MiB } });
    const s = await greeted(mta.port);
    await s.command('EHLO attacker.example');
    assert.equal((await s.command('MAIL FROM:<x@elsewhere.example>')).code, 250);
    assert.equal((await s.command('RCPT TO:<alice@siroe.example>')).code, 250);
    assert.equal((await s.command('DATA')).code, 354);
    let most = 0;
    const watch = setInterval(() => (most = Math.max(most, spoolBytes(config))), 20);
    const line = `${'x'.repeat(1022)}\r\n`;
    const chunk = line.repeat(256); // 256 KiB
    for (let sent = 0; sent < 40 * MiB; sent += chunk.length) await s.writeDrained(chunk);
    const reply = await s.command('.', 30_000);
    clearInterval(watch);
    most = Math.max(most, spoolBytes(config));
    assert.equal(reply.code, 552);
    assert.match(reply.text, /^5\.3\.4 /);
    assert.ok(most < 2 * MiB, `the spool held ${most} bytes of a 40 MiB message over a 1 MiB limit`);
    assert.equal(spoolBytes(config), 0, 'nothing of it is left');
    s.close();
    const next = await legitimate(mta.port);
    assert.ok(
      next.replies.some((r) => /^250 (2\.\d\.\d )?Ok: queued/.test(r)),
      next.stdout,
    );
  });

  it('answers 452 4.3.1 at MAIL when the queue has less free space than its floor', async () => {
    const { mta } = await edge('full', { limits: { minFreeSpoolBytes: 2 ** 52 } });
    const result = await legitimate(mta.port);
    assert.ok(
      result.replies.some((r) => /^452 4\.3\.1 /.test(r)),
      `expected 452 4.3.1 at MAIL:\n${result.stdout}`,
    );
  });
});

describe('slow clients (item 2)', () => {
  it('closes a session whose command line is still not complete at the command deadline, bytes trickling or not', async () => {
    const { mta } = await edge('slow-command', { limits: { commandTimeoutSeconds: 3 } });
    const s = await greeted(mta.port);
    const begun = Date.now();
    const trickle = setInterval(() => s.write('E'), 500);
    const reply = await s.read(10_000).finally(() => clearInterval(trickle));
    assert.equal(reply.code, 421);
    assert.match(reply.text, /^4\.4\.2 /);
    const took = Date.now() - begun;
    assert.ok(took >= 2500 && took < 7000, `closed after ${took} ms`);
    assert.equal(await mta.metric('mtopo_mta_session_deadlines_total', { deadline: 'command' }), 1);
  });

  it('closes a DATA phase that outlasts its deadline', async () => {
    const { mta } = await edge('slow-data', { limits: { dataTimeoutSeconds: 3 } });
    const s = await greeted(mta.port);
    await s.command('EHLO slow.example');
    await s.command('MAIL FROM:<x@elsewhere.example>');
    await s.command('RCPT TO:<alice@siroe.example>');
    assert.equal((await s.command('DATA')).code, 354);
    const trickle = setInterval(() => s.write('Subject: slow\r\n'), 300);
    const reply = await s.read(10_000).finally(() => clearInterval(trickle));
    assert.equal(reply.code, 421);
    assert.match(reply.text, /^4\.4\.2 The message took too long/);
  });

  it('lets a real sender in while slow clients fill every slot: a busy listener cuts them short', async () => {
    const { mta } = await edge('slots', { maxConnections: 12 });
    const slow = await Promise.all(Array.from({ length: 12 }, () => greeted(mta.port)));
    const trickle = setInterval(() => {
      for (const s of slow) s.write('N');
    }, 400);
    try {
      // Each is told it was too slow by the busy deadline (10 s), not the idle one (5 minutes).
      const begun = Date.now();
      const goodbyes = await Promise.all(slow.map((s) => s.read(20_000)));
      assert.ok(goodbyes.every((r) => r.code === 421 && r.text.startsWith('4.4.2')));
      assert.ok(Date.now() - begun < 15_000);
      const result = await legitimate(mta.port);
      assert.ok(
        result.replies.some((r) => /^250 (2\.\d\.\d )?Ok: queued/.test(r)),
        result.stdout,
      );
    } finally {
      clearInterval(trickle);
      for (const s of slow) s.close();
    }
  });
});

describe('a directory harvester (item 5)', () => {
  const harvest = (port: number, count: number) =>
    run(
      'python3',
      [
        '-c',
        `
import json, smtplib, sys, time
answers = []
start = time.time()
try:
    s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=60)
    s.ehlo('harvester.example')
    s.mail('x@elsewhere.example')
    for i in range(int(sys.argv[2])):
        code, _ = s.rcpt('guess%d@siroe.example' % i)
        answers.append(code)
        if code == 421: break
except smtplib.SMTPConnectError as e:
    answers.append(e.smtp_code)
except smtplib.SMTPServerDisconnected:
    answers.append('closed')
print(json.dumps({'answers': answers, 'seconds': time.time() - start}))
`,
        String(port),
        String(count),
      ],
      { timeoutMs: 90_000 },
    ).then((r) => JSON.parse(r.stdout) as { answers: (number | string)[]; seconds: number });

  it('slows the guesses down, closes the session at the limit, and then refuses the client at connect', async () => {
    const { mta } = await edge(
      'harvest',
      { limits: { recipientErrorsBeforeDelay: 2, recipientErrorsPerSession: 6 } },
      refusingInbound,
    );
    const first = await harvest(mta.port, 30);
    assert.equal(first.answers.length, 6, JSON.stringify(first));
    assert.ok(
      first.answers.slice(0, 5).every((c) => typeof c === 'number' && c >= 500),
      JSON.stringify(first),
    );
    assert.equal(first.answers[5], 421, 'closed at the sixth refused recipient');
    // Guesses 3, 4 and 5 wait 0.5, 1 and 2 s.
    assert.ok(first.seconds >= 3.3, `took ${first.seconds} s`);
    assert.equal(await mta.metric('mtopo_mta_recipient_error_limit_total'), 1);
    // 6 refusals a session; at 18 from one client it is refused at connect.
    await harvest(mta.port, 30);
    await harvest(mta.port, 30);
    const locked = await harvest(mta.port, 30);
    assert.deepEqual(locked.answers, [421]);
  });
});

describe('a client hanging up mid-message (item 9)', () => {
  it('is logged as gone and counted as aborted, not as an error answered with 451', async () => {
    const { mta } = await edge('hang-up');
    const s = await greeted(mta.port);
    await s.command('EHLO leaver.example');
    await s.command('MAIL FROM:<x@elsewhere.example>');
    await s.command('RCPT TO:<alice@siroe.example>');
    assert.equal((await s.command('DATA')).code, 354);
    s.write('Subject: half a message\r\n\r\nand then');
    await new Promise((r) => setTimeout(r, 200));
    s.close();
    await waitFor('the MTA to notice', () =>
      mta.logs().some((l) => l.msg === 'client went away mid-message'),
    );
    assert.ok(!mta.logs().some((l) => l.level === 50), 'no error was logged');
    assert.equal(await mta.metric('mtopo_mta_smtp_replies_total', { stage: 'data', code: '451' }), 0);
    assert.equal(await mta.metric('mtopo_mta_sessions_aborted_total', { stage: 'data' }), 1);
  });
});

describe('a password guesser (item 4)', () => {
  let site: SiroeSite;
  let outbound: MtaProcess;

  before(async () => {
    site = await startSiroeSite(join(temp.path, 'site'));
    const rendered = renderedConfig('outbound');
    const dir = join(temp.path, 'outbound');
    const config = await localize(rendered, {
      dir,
      hops: { ...site.hops, [hopKey(rendered.gateway!)]: inboundStandIn.port },
      directory: site.directory(dir),
      tls: site.tls,
      limits: { authFailuresBeforeLockout: 4 },
    });
    outbound = await startMtaFromConfig({ config, dir, secrets: { 'xclient-secret': 'proxy-secret' } });
  });

  after(async () => {
    await outbound?.stop();
    await site?.stop();
  });

  /** Logs in `attempts` times on one STARTTLS session; each answer's code and how long it took. */
  const guess = (passwords: string[], user = 'alice') =>
    run(
      'python3',
      [
        '-c',
        `
import json, smtplib, ssl, sys, time
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=60)
s.ehlo('guesser.example'); s.starttls(context=ctx); s.ehlo('guesser.example')
out = []
for pw in json.loads(sys.argv[3]):
    t = time.time()
    try:
        # One mechanism per attempt (login() would try PLAIN and then LOGIN).
        s.user, s.password = sys.argv[2], pw
        s.auth('PLAIN', s.auth_plain); code = 235
    except smtplib.SMTPAuthenticationError as e:
        code = e.smtp_code
    out.append([code, round(time.time() - t, 2)])
print(json.dumps(out))
`,
        String(outbound.ports.submission),
        user,
        JSON.stringify(passwords),
      ],
      { timeoutMs: 90_000 },
    ).then((r) => JSON.parse(r.stdout) as [number, number][]);

  it('delays the answers after two failures, then locks the account and the address out with 454', async () => {
    const answers = await guess(['a', 'b', 'c', 'd', 'alice-pw']);
    assert.deepEqual(
      answers.map(([code]) => code),
      [535, 535, 535, 535, 454],
      'the right password no longer helps once locked out',
    );
    const [t1, t2, t3, t4] = answers.map(([, seconds]) => seconds);
    assert.ok(t1! < 0.9 && t2! < 0.9, `the first two cost nothing: ${JSON.stringify(answers)}`);
    assert.ok(t3! >= 0.9 && t4! >= 1.9, `then 1 s, 2 s before the answer: ${JSON.stringify(answers)}`);
    assert.ok(outbound.logs().some((l) => l.msg === 'too many failed logins: locked out'));
    assert.equal(await outbound.metric('mtopo_mta_auth_lockouts_total', { key: 'account' }), 1);
    // The address is locked too: another account from it is refused without a check.
    const other = await guess(['bob-pw'], 'bob');
    assert.deepEqual(
      other.map(([code]) => code),
      [454],
    );
  });
});
