// The tiers together, each on the config `mtopo render -f examples/siroe.yaml` writes for it
// (testing/rendered-site.ts changes only addresses, ports and paths): Postfix on the internet sends
// to the internet-facing MTA (edge), which asks the inbound MTA about each recipient and hands it
// the mail; the inbound MTA asks slapd and delivers to the user's store (smtp-sink over LMTP), or,
// for a user still on the legacy system, to the gateway MTA, which relays to the legacy system (a
// second Postfix); mail for the outside (a forwarding address) leaves through the outbound MTA,
// which finds the remote MX in a real DNS server (dnsmasq).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MtaConfigOf } from '../../lib/contract/mta.ts';
import { startDnsmasq, type Dnsmasq } from '../../../testing/peers/dnsmasq.ts';
import { startPostfix, type Postfix } from '../../../testing/peers/postfix.ts';
import { run } from '../../../testing/support/processes.ts';
import { waitFor } from '../../../testing/support/wait.ts';
import { startSmtpSink, type SmtpSink } from '../../../testing/peers/smtp-sink.ts';
import { makeTempDir } from '../../../testing/support/temp-dir.ts';
import { arrived, marker, swaks } from '../testing/clients.ts';
import { startMtaFromConfig, type MtaProcess } from '../testing/mta-process.ts';
import { hopKey, localize, renderedConfig } from '../testing/rendered-site.ts';
import { LEGACY_HOST, startSiroeSite, type SiroeSite } from '../testing/siroe-site.ts';

const MAIN = new URL('../main.ts', import.meta.url).pathname;
const temp = makeTempDir('tiers');
let site: SiroeSite;
let legacySink: SmtpSink;
let legacy: Postfix;
let remote: SmtpSink;
let dns: Dnsmasq;
let gateway: MtaProcess;
let outbound: MtaProcess;
let inbound: MtaProcess;
let edge: MtaProcess;
let edgeConfigFile: string;
let internet: Postfix;

const portOf = (c: { listeners: { name: string; port: number }[] }, name: string) =>
  c.listeners.find((l) => l.name === name)!.port;

before(async () => {
  site = await startSiroeSite(join(temp.path, 'site'));
  remote = await startSmtpSink(join(temp.path, 'remote'));
  dns = await startDnsmasq(join(temp.path, 'dns'), {
    zones: ['elsewhere.example'],
    mx: [{ domain: 'elsewhere.example', host: 'mx.elsewhere.example', preference: 10 }],
    hosts: { 'mx.elsewhere.example': ['127.0.0.1'] },
  });
  legacySink = await startSmtpSink(join(temp.path, 'legacy-sink'));
  legacy = await startPostfix(join(temp.path, 'legacy'), {
    // The legacy system keeps the users who have not moved yet, under the site's own domains too.
    relayDomains: ['siroe.example', 'west.siroe.example', 'legacy.siroe.example'],
    nextHop: { host: '127.0.0.1', port: legacySink.port },
    myhostname: LEGACY_HOST,
  });

  const renderedGateway = renderedConfig('gateway');
  const gatewayConfig = await localize(renderedGateway, {
    dir: join(temp.path, 'gateway'),
    hops: { [`${LEGACY_HOST}:25`]: legacy.port },
    tls: site.tls,
  });
  gateway = await startMtaFromConfig({ config: gatewayConfig, dir: join(temp.path, 'gateway') });

  const renderedInbound = renderedConfig('inbound');
  const renderedOutbound = renderedConfig('outbound');
  const gatewayHop = { [hopKey(renderedInbound.gateway!)]: gateway.port };
  const outboundConfig = await localize(renderedOutbound, {
    dir: join(temp.path, 'outbound'),
    hops: { ...site.hops, ...gatewayHop },
    directory: site.directory(join(temp.path, 'outbound')),
    tls: site.tls,
  });
  outbound = await startMtaFromConfig({
    config: outboundConfig,
    dir: join(temp.path, 'outbound'),
    secrets: { 'xclient-secret': 'not used here' },
    args: ['--dns-server', dns.server, '--mx-port', String(remote.port)],
  });

  const inboundConfig = await localize(renderedInbound, {
    dir: join(temp.path, 'inbound'),
    hops: {
      ...site.hops,
      ...gatewayHop,
      [hopKey(renderedInbound.outboundRelay!)]: portOf(outboundConfig, 'smtp'),
    },
    directory: site.directory(join(temp.path, 'inbound')),
    tls: site.tls,
  });
  inbound = await startMtaFromConfig({ config: inboundConfig, dir: join(temp.path, 'inbound') });

  const renderedEdge = renderedConfig('internet');
  const edgeConfig: MtaConfigOf<'internet'> = await localize(renderedEdge, {
    dir: join(temp.path, 'edge'),
    hops: { [hopKey(renderedEdge.relayTo)]: inbound.port },
    tls: site.tls,
  });
  edge = await startMtaFromConfig({ config: edgeConfig, dir: join(temp.path, 'edge') });
  edgeConfigFile = join(temp.path, 'edge', 'config.json');

  internet = await startPostfix(join(temp.path, 'internet'), {
    relayDomains: ['siroe.example', 'west.siroe.example', 'legacy.siroe.example'],
    nextHop: { host: '127.0.0.1', port: edge.port },
    myhostname: 'sender.elsewhere.example',
    mainCf: { smtp_tls_security_level: 'may' },
  });
});

after(async () => {
  await internet?.stop();
  await Promise.all([edge?.stop(), inbound?.stop(), outbound?.stop(), gateway?.stop()]);
  await Promise.all([legacy?.stop(), dns?.stop()]);
  await Promise.all([legacySink?.stop(), remote?.stop()]);
  await site?.stop();
  temp.remove();
});

const fromTheInternet = (to: string, tag: string) =>
  swaks(internet.port, ['--from', 'someone@elsewhere.example', '--to', to, '--header', `Subject: ${tag}`]);

const hopsOf = (message: string) => [...message.matchAll(/\tby (\S+) \((\w+)\)/g)].map((m) => m[1]);

describe('mail from the internet through the rendered tiers of examples/siroe.yaml', () => {
  it("reaches a migrated user's store: internet → edge → inbound → store", async () => {
    const tag = marker();
    await fromTheInternet('alice@siroe.example', tag);
    const message = await arrived(site.stores['siroe-store-0']!, tag, 20_000);
    assert.deepEqual(hopsOf(message), [
      'inbound-mta.mail.svc.cluster.local',
      'mx.siroe.example',
      'sender.elsewhere.example',
    ]);
  });

  it('reaches a user still on the legacy system: … → inbound → gateway → legacy Postfix (issue 9, item 3)', async () => {
    const tag = marker();
    await fromTheInternet('dave@siroe.example', tag);
    const message = await arrived(legacySink, tag, 20_000);
    assert.deepEqual(hopsOf(message), [
      LEGACY_HOST,
      'legacy-gw-mta.mail.svc.cluster.local',
      'inbound-mta.mail.svc.cluster.local',
      'mx.siroe.example',
      'sender.elsewhere.example',
    ]);
    assert.ok(
      !gateway.logs().some((l) => l.msg === 'refused'),
      'the gateway refused nothing the inbound tier sent it',
    );
  });

  it('sends a forwarding address outside the site through the outbound tier, which finds its MX in DNS (item 6)', async () => {
    const tag = marker();
    await fromTheInternet('frank@siroe.example', tag);
    const message = await arrived(remote, tag, 20_000);
    assert.match(message, /RCPT TO:<frank@elsewhere\.example>|frank@elsewhere\.example/);
    assert.deepEqual(hopsOf(message).slice(0, 2), ['mx.siroe.example', 'inbound-mta.mail.svc.cluster.local']);
    assert.ok(
      dns.queries().some((q) => /query\[MX\] elsewhere\.example/.test(q)),
      'the outbound tier asked DNS for the MX',
    );
    assert.ok(
      outbound
        .logs()
        .some((l) => l.msg === 'delivered' && l.rcpt === 'frank@elsewhere.example' && l.destination === 'mx'),
    );
  });

  it("refuses an unknown user at the edge, asking the inbound tier over TLS, so the sender's own MTA bounces it (item 8)", async () => {
    const tag = marker();
    await fromTheInternet('ghost@siroe.example', tag);
    await waitFor(
      'Postfix to be refused by the edge',
      () =>
        /to=<ghost@siroe\.example>.*status=bounced \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 550 5\.1\.1 No such user here/.test(
          internet.maillog(),
        ),
      15_000,
    );
    const probe = inbound.logs().find((l) => l.msg === 'refused' && l.rcpt === 'ghost@siroe.example');
    assert.equal(probe?.tls, true, 'the probe asked over STARTTLS, as relayTo.tls asks');
  });
});

describe('mta route at the edge says what RCPT says (item 7)', () => {
  const route = (address: string) =>
    run(process.execPath, [MAIN, 'route', address, '--config', edgeConfigFile, '--json']);

  it('refuses an unknown user with the 550 the inbound tier gives, and lists no destination', async () => {
    const result = await route('ghost@siroe.example');
    assert.equal(result.code, 0, result.stderr);
    const explanation = JSON.parse(result.stdout) as { atRcpt: string; destinations: unknown[] };
    assert.match(explanation.atRcpt, /^refused: 550 5\.1\.1 /);
    assert.deepEqual(explanation.destinations, []);
  });

  it('accepts a user the inbound tier knows, handing it inward', async () => {
    const result = await route('alice@siroe.example');
    const explanation = JSON.parse(result.stdout) as {
      atRcpt: string;
      destinations: { outcome: string; via: string }[];
    };
    assert.equal(explanation.atRcpt, 'accepted (250)');
    assert.deepEqual(
      explanation.destinations.map((d) => d.outcome),
      ['deliver'],
    );
  });
});
