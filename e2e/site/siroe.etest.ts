// examples/siroe.yaml on the real node, deployed once for every test here: the operator runs as a
// pod installed by its chart, the site reaches Ready with every tier's pods on the images built
// here, mail crosses the DMZ from the internet to a store and back out through the MMP pool and to
// the legacy system, and the PROXY load balancer's clients show in the programs' logs.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { releaseVersion } from '../../images/build/catalogue.ts';
import { allTiers } from '../../operator/src/render/site.ts';
import { publishedHostnames } from '../../operator/src/render/site.ts';
import { kubectl } from '../../testing/control-plane/kubectl.ts';
import { waitFor } from '../../testing/support/wait.ts';
import { WAIT } from '../support.ts';
import {
  deploySite,
  LEGACY_DOMAIN,
  OPERATOR_NAMESPACE,
  SITE_NAMESPACE,
  ZONES,
  type DeployedSite,
} from './deploy-site.ts';
import { imap, searchUids, sendMail } from './mail-clients.ts';
import { siteFlows } from '../../operator/src/render/firewall/flows.ts';
import { probePlan } from '../firewall/probe-plan.ts';
import { mismatches, runProbes, settleProbes } from '../firewall/run-probes.ts';
import { LDAPS_PORT } from './outside-directory.ts';
import path from 'node:path';

const VERSION = releaseVersion(path.resolve(import.meta.dirname, '../..'));

interface PodInfo {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly images: string[];
  readonly phase: string;
  readonly ready: boolean;
}

async function pods(namespace: string): Promise<PodInfo[]> {
  const list = JSON.parse((await kubectl(['-n', namespace, 'get', 'pods', '-o', 'json'])).stdout) as {
    items: {
      metadata: { name: string; labels?: Record<string, string>; deletionTimestamp?: string };
      spec: { containers: { image: string }[] };
      status: { phase: string; conditions?: { type: string; status: string }[] };
    }[];
  };
  return list.items
    .filter((p) => p.metadata.deletionTimestamp === undefined)
    .map((p) => ({
      name: p.metadata.name,
      labels: p.metadata.labels ?? {},
      images: p.spec.containers.map((c) => c.image),
      phase: p.status.phase,
      ready: p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    }));
}

async function podsWithAddresses(): Promise<(PodInfo & { ip: string })[]> {
  const list = JSON.parse((await kubectl(['-n', SITE_NAMESPACE, 'get', 'pods', '-o', 'json'])).stdout) as {
    items: {
      metadata: { name: string; labels?: Record<string, string> };
      status: { phase: string; podIP?: string };
    }[];
  };
  return list.items
    .filter((p) => p.status.phase === 'Running' && p.status.podIP)
    .map((p) => ({
      name: p.metadata.name,
      labels: p.metadata.labels ?? {},
      images: [],
      phase: p.status.phase,
      ready: true,
      ip: p.status.podIP!,
    }));
}

async function tierLogs(selector: string): Promise<string> {
  const result = await kubectl(
    ['-n', SITE_NAMESPACE, 'logs', '-l', selector, '--tail=-1', '--prefix', '--max-log-requests=10'],
    { check: false },
  );
  return result.stdout;
}

describe('siroe on the real node', () => {
  let deployed: DeployedSite;
  const tag = randomBytes(4).toString('hex');

  before(async () => {
    deployed = await deploySite();
  });
  after(async () => {
    await deployed?.teardown();
  });

  test('the operator runs in the cluster as a pod of its chart, from the image built here', async () => {
    const operator = await pods(OPERATOR_NAMESPACE);
    assert.equal(operator.length, 1);
    assert.deepEqual(operator[0]!.images, [`localhost/mtopo/operator:${VERSION}`]);
    assert.ok(operator[0]!.ready, 'the operator pod is Ready');
  });

  test("the site is Ready and every tier's pods run from the images built here", async () => {
    const running = await pods(SITE_NAMESPACE);
    const tiers = allTiers(deployed.site);
    const expected = tiers.reduce((sum, t) => sum + t.replicas, 0);
    assert.equal(running.length, expected, running.map((p) => p.name).join(' '));
    for (const pod of running) {
      assert.equal(pod.phase, 'Running', pod.name);
      assert.ok(pod.ready, `${pod.name} is Ready`);
      assert.equal(pod.images.length, 1);
      assert.match(
        pod.images[0]!,
        new RegExp(`^localhost/mtopo/(mta|store|mmp):${VERSION.replace(/\./g, '\\.')}$`),
      );
    }
    for (const tier of tiers) {
      const ofTier = running.filter((p) => p.name.startsWith(`${tier.name}-`));
      assert.equal(ofTier.length, tier.replicas, `${tier.name} runs ${tier.replicas} pods`);
    }
    process.stderr.write(
      `site: ${expected} pods Ready ${deployed.readySeconds.toFixed(1)}s after kubectl apply\n`,
    );
  });

  test("mail from the internet crosses the DMZ into the user's store and is read back through the MMP pool", async () => {
    const subject = `e2e-inbound-${tag}`;
    const sent = await sendMail(
      deployed.outside,
      ZONES.internet,
      { host: deployed.haproxy.address, port: deployed.balancer.smtp },
      { from: 'someone@example.org', to: 'alice@siroe.example', subject },
    );
    assert.ok(sent.accepted, sent.transcript);
    const account = {
      user: 'alice',
      password: 'alice-pw',
      hostname: publishedHostnames(deployed.site).clients,
      caFile: deployed.caFile,
    };
    const server = { host: deployed.haproxy.address, port: deployed.balancer.imap };
    const uids = await waitFor(
      'the message in alice’s INBOX, through the MMP pool',
      async () => {
        const found = await imap(deployed.outside, ZONES.contractor, server, account, {
          path: 'INBOX',
          command: `UID SEARCH SUBJECT "${subject}"`,
        });
        if (!found.ok) throw new Error(found.out);
        const list = searchUids(found.out);
        return list.length > 0 ? list : undefined;
      },
      WAIT,
    );
    const fetched = await imap(deployed.outside, ZONES.contractor, server, account, {
      path: `INBOX;UID=${uids[0]}`,
    });
    assert.ok(fetched.ok, fetched.out);
    assert.match(fetched.out, new RegExp(`Subject: ${subject}`));
    assert.match(fetched.out, /a message for alice@siroe\.example/);
  });

  test("a client submits through the MMP pool's SMTP proxy, which hands it to the outbound MTA over verified TLS", async () => {
    const subject = `e2e-submitted-${tag}`;
    const sent = await sendMail(
      deployed.outside,
      ZONES.engineer,
      { host: deployed.haproxy.address, port: deployed.balancer.submission },
      { from: 'carol@siroe.example', to: 'bob@west.siroe.example', subject },
      { user: 'carol', password: 'carol-pw' },
    );
    assert.ok(sent.accepted, sent.transcript);
    const account = {
      user: 'bob',
      password: 'bob-pw',
      hostname: publishedHostnames(deployed.site).clients,
      caFile: deployed.caFile,
    };
    const server = { host: deployed.haproxy.address, port: deployed.balancer.imap };
    await waitFor(
      'the submitted message in bob’s INBOX',
      async () => {
        const found = await imap(deployed.outside, ZONES.engineer, server, account, {
          path: 'INBOX',
          command: `UID SEARCH SUBJECT "${subject}"`,
        });
        if (!found.ok) throw new Error(found.out);
        return searchUids(found.out).length > 0;
      },
      WAIT,
    );
  });

  test('mail for the legacy domain leaves through the gateway to the legacy Postfix', async () => {
    const subject = `e2e-legacy-${tag}`;
    const sent = await sendMail(
      deployed.outside,
      ZONES.internet,
      { host: deployed.haproxy.address, port: deployed.balancer.smtp },
      { from: 'someone@example.org', to: `dave@${LEGACY_DOMAIN}`, subject },
    );
    assert.ok(sent.accepted, sent.transcript);
    const message = await waitFor(
      'the message at the legacy Postfix',
      () => deployed.legacy.messages().find((m) => m.includes(`Subject: ${subject}`)),
      WAIT,
    );
    assert.match(message, new RegExp(`Delivered-To: dave@${LEGACY_DOMAIN.replace(/\./g, '\\.')}`));
  });

  test("behind HAProxy's PROXY header, the MTA's and the MMP's logs show the real client address", async () => {
    const edge = await waitFor(
      'the edge MTA to log the internet client',
      async () => {
        const logs = await tierLogs('app.kubernetes.io/instance=edge-mta');
        return logs.includes(ZONES.internet) ? logs : undefined;
      },
      WAIT,
    );
    assert.ok(edge.includes(ZONES.internet));
    const mmp = await waitFor(
      'the MMP to log the contractor',
      async () => {
        const logs = await tierLogs('app.kubernetes.io/instance=access-mmp');
        return logs.includes(ZONES.contractor) ? logs : undefined;
      },
      WAIT,
    );
    assert.ok(mmp.includes(ZONES.contractor));
    // The balancer's own address is what the pods see on the wire; it must not pass for the client.
    assert.ok(!/client[^\n]*10\.251\.0\.1\b/.test(mmp), 'the MMP logs the balancer as a client');
  });

  test('the walls hold on the enforcer, flow by flow, as the firewall model draws them', async () => {
    const plan = probePlan(deployed.site, siteFlows(deployed.site));
    const running = await podsWithAddresses();
    const tierPods = new Map(
      allTiers(deployed.site).map((tier) => {
        const pod = running.find((p) => p.labels['app.kubernetes.io/instance'] === tier.name);
        if (pod === undefined) throw new Error(`no running pod of ${tier.name}`);
        return [tier.name, pod];
      }),
    );
    const zones = new Map<string, string>([
      ['internet', ZONES.internet],
      ['clients:engineering', ZONES.engineer],
      ['clients:contractors', ZONES.contractor],
      ['legacy:notes', ZONES.notes],
      ['directory', ZONES.directory[0]],
    ]);
    const started = Date.now();
    const world = {
      pods: tierPods,
      zones,
      namespace: SITE_NAMESPACE,
      outside: deployed.outside,
      node: '/usr/local/bin/node',
    };
    const { outcomes, transient } = await settleProbes(world, await runProbes(world, plan));
    // CI once saw outbound -> inbound:9090 open at first, never again: reported, not hidden.
    for (const line of mismatches(transient))
      process.stderr.write(`firewall: at first, then settled: ${line}\n`);
    const open = outcomes.filter((o) => o.probe.expect === 'open');
    const closed = outcomes.filter((o) => o.probe.expect === 'closed');
    process.stderr.write(
      `firewall: ${open.filter((o) => o.outcome === 'open').length}/${open.length} admitted flows connected, ` +
        `${closed.filter((o) => o.outcome !== 'open').length}/${closed.length} other pairs refused ` +
        `(${((Date.now() - started) / 1000).toFixed(1)}s)\n`,
    );
    assert.ok(plan.some((p) => p.to.name === 'directory' && p.port === LDAPS_PORT));
    assert.deepEqual(mismatches(outcomes), []);
  });
});
