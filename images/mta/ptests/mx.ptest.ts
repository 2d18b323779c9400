// MX delivery against a real DNS server (issue 9, item 10): the outbound tier, on the config the
// operator renders for examples/siroe.yaml, asks dnsmasq on loopback for MX, A and AAAA records and
// delivers to smtp-sinks listening on other loopback addresses — by preference, past a dead first
// MX and past an MX without an address, over IPv6 when the MX has only an AAAA record, and it
// bounces mail for a domain that does not exist (NXDOMAIN, 5.1.2) back to the sender's store.
// Mail comes in on the relay port, the way the inbound tier hands over mail for the outside.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDnsmasq, type Dnsmasq } from '../../../testing/peers/dnsmasq.ts';
import { freePort } from '../../../testing/support/free-ports.ts';
import { startSmtpSink, type SmtpSink } from '../../../testing/peers/smtp-sink.ts';
import { makeTempDir } from '../../../testing/support/temp-dir.ts';
import { arrived, count, marker, swaks } from '../testing/clients.ts';
import { startMtaFromConfig, type MtaProcess } from '../testing/mta-process.ts';
import { hopKey, localize, renderedConfig } from '../testing/rendered-site.ts';
import { startSiroeSite, type SiroeSite } from '../testing/siroe-site.ts';
import { startTogether } from '../../../testing/support/processes.ts';

const temp = makeTempDir('mx');
let site: SiroeSite;
let dns: Dnsmasq;
/** The MX hosts, each on its own loopback address, all on one port (MX records carry no port). */
let primary: SmtpSink;
let secondary: SmtpSink;
let v6: SmtpSink;
let outbound: MtaProcess;

before(async () => {
  site = await startSiroeSite(join(temp.path, 'site'));
  const mxPort = await freePort();
  [primary, secondary, v6] = await startTogether([
    startSmtpSink(join(temp.path, 'primary'), { host: '127.0.0.3', port: mxPort }),
    startSmtpSink(join(temp.path, 'secondary'), { host: '127.0.0.4', port: mxPort }),
    startSmtpSink(join(temp.path, 'v6'), { host: '::1', port: mxPort }),
  ]);
  dns = await startDnsmasq(join(temp.path, 'dns'), {
    zones: ['pref.example', 'dead.example', 'noaddr.example', 'v6.example', 'nx.example'],
    mx: [
      { domain: 'pref.example', host: 'mx20.pref.example', preference: 20 },
      { domain: 'pref.example', host: 'mx10.pref.example', preference: 10 },
      // Nothing listens on 127.0.0.5.
      { domain: 'dead.example', host: 'down.dead.example', preference: 10 },
      { domain: 'dead.example', host: 'up.dead.example', preference: 20 },
      // The first MX has no A or AAAA record at all.
      { domain: 'noaddr.example', host: 'ghost.noaddr.example', preference: 10 },
      { domain: 'noaddr.example', host: 'mx.noaddr.example', preference: 20 },
      { domain: 'v6.example', host: 'mx.v6.example', preference: 10 },
    ],
    hosts: {
      'mx10.pref.example': ['127.0.0.3'],
      'mx20.pref.example': ['127.0.0.4'],
      'down.dead.example': ['127.0.0.5'],
      'up.dead.example': ['127.0.0.4'],
      'mx.noaddr.example': ['127.0.0.3'],
      'mx.v6.example': ['::1'],
    },
  });
  const rendered = renderedConfig('outbound');
  const dir = join(temp.path, 'outbound');
  const config = await localize(rendered, {
    dir,
    hops: { ...site.hops, [hopKey(rendered.gateway!)]: secondary.port },
    directory: site.directory(dir),
    tls: site.tls,
  });
  outbound = await startMtaFromConfig({
    config,
    dir,
    secrets: { 'xclient-secret': 'not used here' },
    args: ['--dns-server', dns.server, '--mx-port', String(mxPort)],
  });
});

after(async () => {
  await outbound?.stop();
  await Promise.all([primary?.stop(), secondary?.stop(), v6?.stop(), dns?.stop()]);
  await site?.stop();
  temp.remove();
});

const handOver = (to: string, tag: string) =>
  swaks(outbound.ports.smtp!, ['--from', 'alice@siroe.example', '--to', to, '--header', `Subject: ${tag}`]);

describe('MX delivery through a real DNS server', () => {
  it('delivers to the MX of lowest preference', async () => {
    const tag = marker();
    await handOver('someone@pref.example', tag);
    await arrived(primary, tag, 20_000);
    assert.equal(count(secondary, tag), 0);
  });

  it('goes on to the next MX when the first does not answer', async () => {
    const tag = marker();
    await handOver('someone@dead.example', tag);
    await arrived(secondary, tag, 30_000);
  });

  it('skips an MX host that has no address', async () => {
    const tag = marker();
    await handOver('someone@noaddr.example', tag);
    await arrived(primary, tag, 20_000);
    assert.ok(dns.queries().some((q) => /query\[AAAA\] ghost\.noaddr\.example/.test(q)));
  });

  it('reaches an MX that has only an AAAA record, over IPv6', async () => {
    const tag = marker();
    await handOver('someone@v6.example', tag);
    await arrived(v6, tag, 20_000);
  });

  it('bounces mail for a domain that does not exist (NXDOMAIN) to the sender, with 5.1.2', async () => {
    const tag = marker();
    await handOver('someone@nx.example', tag);
    const bounce = await arrived(
      site.stores['siroe-store-0']!,
      'Final-Recipient: rfc822; someone@nx.example',
      30_000,
    );
    assert.match(bounce, /Status: 5\.1\.2/);
    assert.match(bounce, new RegExp(tag));
  });
});
