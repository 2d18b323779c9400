// The gateway role: relays by route to a legacy system, played by a Postfix instance (with STARTTLS
// and a self-signed certificate) that hands mail to smtp-sink; certificate checking per route.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startPostfix, type Postfix } from '../../../testing/peers/postfix.ts';
import { waitFor } from '../../../testing/support/wait.ts';
import { startSmtpSink, type SmtpSink } from '../../../testing/peers/smtp-sink.ts';
import { makeTempDir } from '../../../testing/support/temp-dir.ts';
import { makeSelfSignedCertificate } from '../../../testing/peers/tls-fixture.ts';
import { arrived, count, marker, replyTo, swaks } from '../testing/clients.ts';
import { startMtaProcess, type MtaProcess } from '../testing/mta-process.ts';

const temp = makeTempDir('gateway');
let sink: SmtpSink;
let legacy: Postfix;
let gateway: MtaProcess;

before(async () => {
  sink = await startSmtpSink(join(temp.path, 'sink'));
  const tls = await makeSelfSignedCertificate(temp.path, 'notes.legacy.test');
  legacy = await startPostfix(join(temp.path, 'legacy'), {
    relayDomains: ['legacy.example.test', 'strict.legacy.example.test'],
    nextHop: { host: '127.0.0.1', port: sink.port },
    myhostname: 'notes.legacy.test',
    mainCf: {
      smtpd_tls_cert_file: tls.certFile,
      smtpd_tls_key_file: tls.keyFile,
      smtpd_tls_security_level: 'may',
      smtpd_tls_loglevel: '1',
    },
  });
  const to = (tlsMode: 'opportunistic' | 'verify') => ({
    host: '127.0.0.1',
    port: legacy.port,
    tls: tlsMode,
  });
  gateway = await startMtaProcess({
    role: 'gateway',
    dir: join(temp.path, 'gateway'),
    overrides: {
      routes: [
        { domains: ['legacy.example.test'], to: to('opportunistic') },
        { domains: ['strict.legacy.example.test'], to: to('verify') },
      ],
    },
  });
});

after(async () => {
  await gateway?.stop();
  await legacy?.stop();
  await sink?.stop();
  temp.remove();
});

describe('gateway MTA', () => {
  it('relays a routed domain to the legacy system, over STARTTLS when offered', async () => {
    const tag = marker();
    const result = await swaks(gateway.port, [
      '--from',
      'alice@example.test',
      '--to',
      'dave@legacy.example.test',
      '--header',
      `Subject: ${tag}`,
    ]);
    assert.match(result.stdout, /250 2\.6\.0 Ok: queued/);
    const message = await arrived(sink, tag, 20_000);
    assert.match(message, /by notes\.legacy\.test \(Postfix\) with ESMTPS/);
    assert.match(message, /by gateway\.mta\.example\.test \(mtopo\) with ESMTP id/);
  });

  it('refuses every domain it has no route for', async () => {
    for (const to of ['alice@example.test', 'victim@elsewhere.example']) {
      const result = await swaks(gateway.port, [
        '--from',
        'a@example.test',
        '--to',
        to,
        '--quit-after',
        'RCPT',
      ]);
      assert.match(replyTo(result, /RCPT TO/) ?? '', /^554 5\.7\.1 /, to);
    }
  });

  it('keeps mail queued, not delivered in clear, when a route demands a certificate the host does not have', async () => {
    const tag = marker();
    const result = await swaks(gateway.port, [
      '--from',
      'alice@example.test',
      '--to',
      'erin@strict.legacy.example.test',
      '--header',
      `Subject: ${tag}`,
    ]);
    const queueId = /queued as ([0-9A-Z]+)/.exec(result.stdout)?.[1];
    assert.ok(queueId);
    await waitFor('the delivery to be deferred', () =>
      gateway.logs().some((l) => l.queueId === queueId && l.msg === 'delivery deferred'),
    );
    const deferred = gateway.logs().find((l) => l.queueId === queueId && l.msg === 'delivery deferred');
    assert.match(String(deferred?.reply), /certificate/i);
    assert.equal(count(sink, tag), 0);
    assert.equal(await gateway.metric('mtopo_mta_queue_messages'), 1);
  });
});
