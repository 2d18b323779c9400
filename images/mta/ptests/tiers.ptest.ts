// The tiers together, as the operator deploys them (DESIGN.md §1): Postfix on the internet sends to
// the internet-facing MTA, which hands everything to the inbound MTA; the inbound MTA asks slapd and
// delivers to the user's store (smtp-sink over LMTP), or, for a user still on the legacy system, to
// the gateway MTA, which relays to the legacy system (a second Postfix).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../../testing/support/free-ports.ts';
import { startPostfix, type Postfix } from '../../../testing/peers/postfix.ts';
import { waitFor } from '../../../testing/support/wait.ts';
import { startSmtpSink, type SmtpSink } from '../../../testing/peers/smtp-sink.ts';
import { makeTempDir } from '../../../testing/support/temp-dir.ts';
import { arrived, marker, swaks } from '../testing/clients.ts';
import { startMtaProcess, type MtaProcess } from '../testing/mta-process.ts';
import { startTestSite, type TestSite } from '../testing/site.ts';

const temp = makeTempDir('tiers');
let site: TestSite;
let legacySink: SmtpSink;
let legacy: Postfix;
let gateway: MtaProcess;
let inbound: MtaProcess;
let edge: MtaProcess;
let internet: Postfix;

before(async () => {
  site = await startTestSite(join(temp.path, 'site'));
  legacySink = await startSmtpSink(join(temp.path, 'legacy-sink'));
  legacy = await startPostfix(join(temp.path, 'legacy'), {
    relayDomains: ['example.test', 'legacy.example.test'],
    nextHop: { host: '127.0.0.1', port: legacySink.port },
    myhostname: 'notes.legacy.test',
  });
  gateway = await startMtaProcess({
    role: 'gateway',
    dir: join(temp.path, 'gateway'),
    overrides: {
      // The legacy system keeps the users who have not moved yet, under the site's own domain too.
      routes: [
        {
          domains: ['legacy.example.test', 'example.test'],
          to: { host: '127.0.0.1', port: legacy.port, tls: 'opportunistic' },
        },
      ],
    },
  });
  const inboundDir = join(temp.path, 'inbound');
  inbound = await startMtaProcess({
    role: 'inbound',
    dir: inboundDir,
    overrides: {
      ...site.overrides(inboundDir),
      gateway: { host: '127.0.0.1', port: gateway.port, domains: ['legacy.example.test'] },
    },
  });
  edge = await startMtaProcess({
    role: 'internet',
    dir: join(temp.path, 'edge'),
    overrides: {
      listeners: [
        {
          name: 'smtp',
          protocol: 'smtp',
          port: await freePort(),
          tls: 'starttls',
          proxyProtocol: 'none',
          maxConnections: 100,
          maxConnectionsPerClient: 20,
        },
      ],
      common: { hostname: 'mx.example.test' },
      relayTo: { host: '127.0.0.1', port: inbound.port, tls: 'opportunistic' },
    },
  });
  internet = await startPostfix(join(temp.path, 'internet'), {
    relayDomains: ['example.test', 'legacy.example.test'],
    nextHop: { host: '127.0.0.1', port: edge.port },
    myhostname: 'sender.elsewhere.example',
  });
});

after(async () => {
  await internet?.stop();
  await Promise.all([edge?.stop(), inbound?.stop(), gateway?.stop()]);
  await legacy?.stop();
  await legacySink?.stop();
  await site?.stop();
  temp.remove();
});

const fromTheInternet = (to: string, tag: string) =>
  swaks(internet.port, ['--from', 'someone@elsewhere.example', '--to', to, '--header', `Subject: ${tag}`]);

describe('mail from the internet through the tiers', () => {
  it("reaches a migrated user's store: internet → edge → inbound → store", async () => {
    const tag = marker();
    await fromTheInternet('alice@example.test', tag);
    const message = await arrived(site.storeA, tag, 20_000);
    const hops = [...message.matchAll(/\tby (\S+) \((\w+)\)/g)].map((m) => m[1]);
    assert.deepEqual(hops, ['inbound.mta.example.test', 'mx.example.test', 'sender.elsewhere.example']);
  });

  it('reaches a user still on the legacy system: … → inbound → gateway → legacy Postfix', async () => {
    const tag = marker();
    await fromTheInternet('dave@example.test', tag);
    const message = await arrived(legacySink, tag, 20_000);
    const hops = [...message.matchAll(/\tby (\S+) \((\w+)\)/g)].map((m) => m[1]);
    assert.deepEqual(hops, [
      'notes.legacy.test',
      'gateway.mta.example.test',
      'inbound.mta.example.test',
      'mx.example.test',
      'sender.elsewhere.example',
    ]);
  });

  it("refuses an unknown user at the edge, asking the inbound tier, so the internet sender's own MTA bounces it", async () => {
    const tag = marker();
    await fromTheInternet('ghost@example.test', tag);
    await waitFor(
      'Postfix to be refused by the edge',
      () =>
        /to=<ghost@example\.test>.*status=bounced \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 550 5\.1\.1 No such user here/.test(
          internet.maillog(),
        ),
      15_000,
    );
    assert.ok(
      !edge.logs().some((l) => l.msg === 'queued' && l.rcpts === 1 && JSON.stringify(l).includes('ghost')),
    );
  });
});
