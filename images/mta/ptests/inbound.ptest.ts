// The inbound role against real peers: slapd holds the directory, smtp-sink plays the LMTP stores
// and the gateway, swaks and Python's smtplib are the clients.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SmtpTranscript } from '../../../testing/peers/smtp-transcript.ts';
import { makeTempDir } from '../../../testing/support/temp-dir.ts';
import { waitFor } from '../../../testing/support/wait.ts';
import { arrived, count, marker, replyTo, rfc822, smtplibSend, swaks } from '../testing/clients.ts';
import { startMtaProcess, type MtaProcess } from '../testing/mta-process.ts';
import { startTestSite, type TestSite } from '../testing/site.ts';

const temp = makeTempDir('inbound');
let site: TestSite;
let mta: MtaProcess;

before(async () => {
  site = await startTestSite(join(temp.path, 'site'));
  const dir = join(temp.path, 'mta');
  mta = await startMtaProcess({ role: 'inbound', dir, overrides: site.overrides(dir) });
});

after(async () => {
  await mta?.stop();
  await site?.stop();
  temp.remove();
});

const send = (to: string, tag: string, extra: string[] = []) =>
  swaks(mta.port, [
    '--from',
    'sender@elsewhere.example',
    '--to',
    to,
    '--header',
    `Subject: ${tag}`,
    ...extra,
  ]);

describe('inbound MTA: where accepted mail goes', () => {
  const cases: [name: string, to: string, sink: () => TestSite['storeA']][] = [
    ['a store user, to the store named by mailHost (LMTP)', 'alice@example.test', () => site.storeA],
    ['another store user, to the other store', 'bob@example.test', () => site.storeB],
    ["an alias, to its owner's store", 'a.lias@example.test', () => site.storeA],
    ['an address in any case', 'ALICE@Example.TEST', () => site.storeA],
    [
      'a user still on the legacy system (mailHost not ours), to the gateway',
      'dave@example.test',
      () => site.gateway,
    ],
    [
      'a gateway domain, to the gateway without asking the directory',
      'anyone@legacy.example.test',
      () => site.gateway,
    ],
  ];
  for (const [name, to, sink] of cases) {
    it(name, async () => {
      const tag = marker();
      const result = await send(to, tag);
      assert.match(replyTo(result, /^.*DATA/) ?? '', /^354/);
      assert.match(result.replies.at(-2) ?? '', /^250 2\.6\.0 Ok: queued as [0-9A-Z]+$/);
      const message = await arrived(sink(), tag);
      assert.match(
        message,
        /Received: from .* \(\[127\.0\.0\.1\]\)\r?\n\tby inbound\.mta\.example\.test \(mtopo\) with ESMTP id [0-9A-Z]+/,
      );
    });
  }

  it('follows forwarding addresses to every store they lead to', async () => {
    const tag = marker();
    await send('carol@example.test', tag);
    await arrived(site.storeA, tag);
    await arrived(site.storeB, tag);
  });
});

describe('inbound MTA: what it refuses at RCPT', () => {
  const cases: [name: string, to: string, reply: RegExp][] = [
    ['an unknown user, after asking the directory', 'nobody@example.test', /^550 5\.1\.1 /],
    ['an LDAP wildcard, which must match nobody', '*@example.test', /^550 5\.1\.1 /],
    ['a wildcard inside a local part', 'ali*@example.test', /^550 5\.1\.1 /],
    ['a user whose entry names no mailHost, for now', 'nohost@example.test', /^451 4\.3\.0 /],
    ['a remote address: the inbound tier relays nothing', 'victim@elsewhere.example', /^554 5\.7\.1 /],
    ['a percent-hack through a hosted domain', 'victim%elsewhere.example@example.test', /^553 5\.7\.1 /],
  ];
  for (const [name, to, reply] of cases) {
    it(name, async () => {
      const result = await send(to, marker(), ['--quit-after', 'RCPT']);
      assert.match(replyTo(result, /RCPT TO/) ?? '', reply);
    });
  }

  it('takes a message for its known recipients and refuses the unknown ones (smtplib)', async () => {
    const tag = marker();
    const result = await smtplibSend({
      port: mta.port,
      from: 'sender@elsewhere.example',
      to: ['alice@example.test', 'ghost@example.test'],
      message: rfc822({ from: 'sender@elsewhere.example', to: 'alice@example.test', subject: tag }),
    });
    assert.equal(result.ok, true, JSON.stringify(result));
    assert.deepEqual(Object.keys(result.refused ?? {}), ['ghost@example.test']);
    assert.equal(result.refused?.['ghost@example.test']?.[0], 550);
    const message = await arrived(site.storeA, tag);
    assert.doesNotMatch(message, /ghost@example\.test/);
  });

  it('answers 451, never 550, while the directory does not answer — and 550 again once it does', async () => {
    await site.slapd.process.pause();
    try {
      const unknown = await send('never-asked@example.test', marker(), ['--quit-after', 'RCPT']);
      assert.match(replyTo(unknown, /RCPT TO/) ?? '', /^451 4\.4\.3 /);
      const ready = await mta.http('/readyz');
      assert.equal(ready.status, 503);
      assert.match(ready.body, /"directory":"(?!ok)/);
    } finally {
      site.slapd.process.resume();
    }
    const again = await send('never-asked@example.test', marker(), ['--quit-after', 'RCPT']);
    assert.match(replyTo(again, /RCPT TO/) ?? '', /^550 5\.1\.1 /);
    assert.equal((await mta.http('/readyz')).status, 200);
  });
});

describe('inbound MTA: only the DMZ tier may connect', () => {
  it('greets a client outside acceptFrom with 554 and nothing else', async () => {
    const dir = join(temp.path, 'walled');
    const walled = await startMtaProcess({
      role: 'inbound',
      dir,
      overrides: { ...site.overrides(dir), acceptFrom: ['10.0.0.0/8'] },
    });
    try {
      const session = await SmtpTranscript.open(walled.port);
      const greeting = await session.read();
      assert.equal(greeting.code, 554);
      assert.match(greeting.text, /5\.7\.1 .*network/);
      await waitFor('the connection to close', () => session.closed, 5000);
    } finally {
      await walled.stop();
    }
  });
});

describe('inbound MTA: metrics and logs', () => {
  it('counts received and delivered mail by role and destination, and logs the queue id', async () => {
    const tag = marker();
    const before = await mta.metric('mtopo_mta_recipients_total', { role: 'inbound', outcome: 'delivered' });
    const result = await send('bob@example.test', tag);
    const queueId = /queued as ([0-9A-Z]+)/.exec(result.stdout)?.[1];
    await arrived(site.storeB, tag);
    await waitFor(
      'the delivered counter',
      async () =>
        (await mta.metric('mtopo_mta_recipients_total', { role: 'inbound', outcome: 'delivered' })) > before,
    );
    assert.ok((await mta.metric('mtopo_mta_messages_received_total', { role: 'inbound' })) >= 1);
    assert.equal((await mta.http('/healthz')).status, 200);
    assert.ok(
      (await mta.metric('mtopo_directory_request_duration_seconds_count', { operation: 'recipient' })) >= 1,
    );
    assert.ok((await mta.metric('mtopo_mta_smtp_replies_total', { stage: 'rcpt', code: '550' })) >= 1);
    const lines = () => mta.logs().filter((l) => l.queueId === queueId);
    await waitFor('the queue id in the log of receipt and delivery', () => lines().length >= 2);
    assert.deepEqual(
      lines().map((l) => l.msg),
      ['queued', 'delivered'],
    );
    assert.equal(count(site.storeB, tag), 1);
  });
});
