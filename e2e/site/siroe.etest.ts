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
import { waitFor } from '../../testing/support/wait.ts';
import { WAIT } from '../support.ts';
import {
  deploySite,
  LEGACY_DOMAIN,
  OPERATOR_NAMESPACE,
  SITE_NAMESPACE,
  USERS,
  ZONES,
  retagProgramImage,
  upgradeOperator,
  type DeployedSite,
} from './deploy-site.ts';
import { imap, searchInbox, sendMail, type ImapAccount } from './mail-clients.ts';
import { describeSteps, firstRefusal, smtpSteps } from './smtp-steps.ts';
import { readBack, traceFieldsAbove } from './read-back.ts';
import { tierCounter } from './tier-metrics.ts';
import { TEST_INTERNET } from '../cluster/plan.ts';
import { siteFlows } from '../../operator/src/render/firewall/flows.ts';
import { probePlan } from '../firewall/probe-plan.ts';
import { mismatches, runProbes, settleProbes } from '../firewall/run-probes.ts';
import { LDAPS_PORT } from './outside-directory.ts';
import { holdSession, moveUser } from './move-user.ts';
import { pods, siteReady, tierLogs, type PodInfo } from './site-state.ts';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { clusterBinDir, testKubeconfigPath } from '../../testing/control-plane/test-env.ts';
import { REPO_ROOT } from '../../operator/src/render/test-support.ts';

const VERSION = releaseVersion(path.resolve(import.meta.dirname, '../..'));

/** The running pods with their addresses (for the firewall probes). */
async function podsWithAddresses(): Promise<(PodInfo & { ip: string })[]> {
  return (await pods(SITE_NAMESPACE)).flatMap((pod) =>
    pod.phase === 'Running' && pod.ip ? [{ ...pod, ip: pod.ip }] : [],
  );
}

describe('siroe on the real node', () => {
  let deployed: DeployedSite;
  const tag = randomBytes(4).toString('hex');
  /** A port of the PROXY load balancer in front of the site. */
  const balancer = (port: number) => ({ host: deployed.haproxy.address, port });
  /** A user's login at the MMP pool, under the published client host name its certificate carries. */
  const account = (uid: string): ImapAccount => {
    const user = USERS.find((u) => u.uid === uid)!;
    return {
      user: user.uid,
      password: user.password!,
      hostname: publishedHostnames(deployed.site).clients,
      caFile: deployed.caFile,
    };
  };
  /** Carol, from the engineers' zone, submits through the MMP pool's SMTP proxy (AUTH): it is taken. */
  const submitAsCarol = async (message: { to: string; subject: string; body?: string }) => {
    const sent = await sendMail(
      deployed.outside,
      ZONES.engineer,
      balancer(deployed.balancer.submission),
      { from: 'carol@siroe.example', ...message },
      { user: 'carol', password: 'carol-pw' },
    );
    assert.ok(sent.accepted, sent.transcript);
  };
  /** The UIDs of the messages in `uid`'s INBOX whose Subject holds `subject`, read through the MMP pool. */
  const inboxUids = (source: string, uid: string, subject: string) =>
    searchInbox(deployed.outside, source, balancer(deployed.balancer.imap), account(uid), subject);

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
    const sent = await sendMail(deployed.outside, ZONES.internet, balancer(deployed.balancer.smtp), {
      from: 'someone@example.org',
      to: 'alice@siroe.example',
      subject,
    });
    assert.ok(sent.accepted, sent.transcript);
    const uids = await waitFor(
      'the message in alice’s INBOX, through the MMP pool',
      async () => {
        const list = await inboxUids(ZONES.contractor, 'alice', subject);
        return list.length > 0 ? list : undefined;
      },
      WAIT,
    );
    const fetched = await imap(
      deployed.outside,
      ZONES.contractor,
      balancer(deployed.balancer.imap),
      account('alice'),
      { path: `INBOX;UID=${uids[0]}` },
    );
    assert.ok(fetched.ok, fetched.out);
    assert.match(fetched.out, new RegExp(`Subject: ${subject}`));
    assert.match(fetched.out, /a message for alice@siroe\.example/);
  });

  test("a client submits through the MMP pool's SMTP proxy, which hands it to the outbound MTA over verified TLS", async () => {
    const subject = `e2e-submitted-${tag}`;
    await submitAsCarol({ to: 'bob@west.siroe.example', subject });
    await waitFor(
      'the submitted message in bob’s INBOX',
      async () => (await inboxUids(ZONES.engineer, 'bob', subject)).length > 0,
      WAIT,
    );
  });

  test('mail for the legacy domain leaves through the gateway to the legacy Postfix', async () => {
    const subject = `e2e-legacy-${tag}`;
    const sent = await sendMail(deployed.outside, ZONES.internet, balancer(deployed.balancer.smtp), {
      from: 'someone@example.org',
      to: `dave@${LEGACY_DOMAIN}`,
      subject,
    });
    assert.ok(sent.accepted, sent.transcript);
    const message = await waitFor(
      'the message at the legacy Postfix',
      () => deployed.legacy.messages().find((m) => m.includes(`Subject: ${subject}`)),
      WAIT,
    );
    assert.match(message, new RegExp(`Delivered-To: dave@${LEGACY_DOMAIN.replace(/\./g, '\\.')}`));
  });

  describe('journeys of mail', () => {
    /** A message as a client composes it: 8-bit UTF-8, a line starting with a dot, a long line. */
    const compose = (from: string, to: string, subject: string): string =>
      [
        `From: <${from}>`,
        `To: <${to}>`,
        `Subject: ${subject}`,
        `Date: ${new Date().toUTCString()}`,
        `Message-ID: <${subject}@example.org>`,
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: 8bit',
        '',
        `Grüße an ${to}.`,
        '.a line that starts with a dot (stuffed on the wire, not in the mailbox)',
        '',
        'x'.repeat(900),
        '',
      ].join('\r\n');
    async function send(
      source: string,
      server: { host: string; port: number },
      from: string,
      to: string,
      message: string,
      tls?: boolean,
    ): Promise<void> {
      const steps = await smtpSteps(deployed.outside, source, server, {
        from,
        to,
        message,
        ...(tls
          ? { tls: { hostname: publishedHostnames(deployed.site).clients, caFile: deployed.caFile } }
          : {}),
      });
      assert.equal(firstRefusal(steps), undefined, describeSteps(steps));
      assert.equal(steps.at(-1)?.step, 'DATA', describeSteps(steps));
    }
    /** A message from the internet to `to`, through the balancer to the edge; the message sent. */
    async function fromTheInternet(to: string, subject: string): Promise<string> {
      const message = compose('someone@example.org', to, subject);
      await send(ZONES.internet, balancer(deployed.balancer.smtp), 'someone@example.org', to, message);
      return message;
    }
    /** Read through the MMP over IMAP and over POP3: the bytes sent, under trace fields only. */
    async function readsBackUnchanged(uid: string, subject: string, sent: string): Promise<void> {
      for (const protocol of ['imap', 'pop3'] as const) {
        const server = balancer(protocol === 'imap' ? deployed.balancer.imap : deployed.balancer.pop3);
        const found = await waitFor(
          `${subject} in ${uid}'s INBOX over ${protocol}, through the MMP pool`,
          async () => {
            const read = await readBack(
              deployed.outside,
              ZONES.contractor,
              server,
              account(uid),
              protocol,
              subject,
            );
            return read.length > 0 ? read : undefined;
          },
          WAIT,
        );
        assert.equal(found.length, 1, `${protocol}: one copy`);
        const added = traceFieldsAbove(found[0]!, Buffer.from(sent, 'utf8'));
        assert.ok(
          added !== undefined,
          `${protocol}: the message read ends with the message sent, byte for byte:\n${found[0]!.toString('utf8')}`,
        );
        assert.ok(
          added.includes('Received'),
          `${protocol}: the site's hops are traced (${added.join(', ')})`,
        );
        for (const field of added)
          assert.ok(
            ['Return-Path', 'Received', 'Delivered-To'].includes(field),
            `${protocol}: only trace fields are added, not ${field}`,
          );
      }
    }
    /** The test internet's MX got the message: its envelope recipient, and the message unchanged. */
    async function reachedTheInternet(recipient: string, subject: string, sent: string): Promise<void> {
      const dump = await waitFor(
        `${subject} at ${TEST_INTERNET.mxHost}`,
        async () => (await deployed.internetMx.messages()).find((m) => m.includes(`Subject: ${subject}`)),
        WAIT,
      );
      assert.match(dump, new RegExp(`^X-Rcpt-Args: <${recipient.replace(/[.]/g, '\\.')}>`, 'm'));
      // smtp-sink keeps lines with LF ends.
      assert.ok(dump.includes(sent.replace(/\r\n/g, '\n')), `the message arrived unchanged:\n${dump}`);
    }

    test('internet mail for users on two stores reads back byte-identical through the MMP pool, over IMAP and POP3', async () => {
      for (const [uid, address] of [
        ['alice', 'alice@siroe.example'],
        ['bob', 'bob@west.siroe.example'],
      ] as const) {
        const subject = `e2e-journey-${uid}-${tag}`;
        await readsBackUnchanged(uid, subject, await fromTheInternet(address, subject));
      }
    });

    test("mail to an alias lands in its owner's mailbox, unchanged", async () => {
      const subject = `e2e-journey-alias-${tag}`;
      await readsBackUnchanged(
        'alice',
        subject,
        await fromTheInternet('alice.liddell@siroe.example', subject),
      );
    });

    test('mail to a forwarding address leaves the site through the outbound tier to the forward target, by MX, unchanged', async () => {
      const subject = `e2e-journey-forward-${tag}`;
      const message = await fromTheInternet('dan@siroe.example', subject);
      await reachedTheInternet(`dan@${TEST_INTERNET.domain}`, subject, message);
    });

    test("a client submits through the MMP pool's SMTP proxy to an internet domain: delivered by MX", async () => {
      const subject = `e2e-journey-submit-out-${tag}`;
      const to = `someone@${TEST_INTERNET.domain}`;
      await submitAsCarol({ to, subject, body: `out to the internet ${tag}\n` });
      const dump = await waitFor(
        `${subject} at ${TEST_INTERNET.mxHost}`,
        async () => (await deployed.internetMx.messages()).find((m) => m.includes(`Subject: ${subject}`)),
        WAIT,
      );
      assert.match(dump, /^X-Mail-Args: <carol@siroe\.example>/m);
      assert.match(dump, new RegExp(`out to the internet ${tag}`));
    });

    test("a client submits through the MMP pool's SMTP proxy to a legacy user: outbound hands it to the gateway, which delivers to the legacy Postfix", async () => {
      const subject = `e2e-journey-submit-legacy-${tag}`;
      const to = `dave@${LEGACY_DOMAIN}`;
      await submitAsCarol({ to, subject, body: `to the legacy system ${tag}\n` });
      const message = await waitFor(
        `${subject} at the legacy Postfix`,
        () => deployed.legacy.messages().find((m) => m.includes(`Subject: ${subject}`)),
        WAIT,
      );
      assert.match(message, new RegExp(`Delivered-To: ${to.replace(/\./g, '\\.')}`));
      assert.match(message, new RegExp(`to the legacy system ${tag}`));
      const outbound = await tierLogs('app.kubernetes.io/instance=outbound-mta');
      assert.ok(
        outbound
          .split('\n')
          .some((l) => l.includes('delivered') && l.includes(to) && l.includes('"destination":"gateway"')),
        `the outbound tier logs its delivery of ${to} to the gateway`,
      );
    });

    test('POP-before-SMTP: after a POP3 login from an address, a submission from there without AUTH is taken as that user', async () => {
      const subject = `e2e-journey-pop-before-smtp-${tag}`;
      // The record is per MMP replica (docs/mmp.md), and nothing keeps a client's POP3 and SMTP
      // connections on one replica: Service affinity is per port, and the balancer sends both from
      // its own address. So log in by POP3 until every replica holds a record, as seen in its log.
      const replicas = (await pods())
        .filter((p) => p.labels['app.kubernetes.io/instance'] === 'access-mmp')
        .map((p) => p.name);
      let logins = 0;
      await waitFor(
        `a POP3 login from ${ZONES.engineer} on every MMP replica (${replicas.join(', ')})`,
        async () => {
          await readBack(
            deployed.outside,
            ZONES.engineer,
            balancer(deployed.balancer.pop3),
            account('bob'),
            'pop3',
            'no such subject',
          );
          logins++;
          const lines = (await tierLogs('app.kubernetes.io/instance=access-mmp')).split('\n');
          return replicas.every((name) =>
            lines.some(
              (l) =>
                l.startsWith(`[pod/${name}/`) &&
                l.includes('"msg":"logged in"') &&
                l.includes(`"client":"${ZONES.engineer}"`) &&
                l.includes('"protocol":"pop3"'),
            ),
          );
        },
        WAIT,
      );
      process.stderr.write(
        `journey: POP-before-SMTP records on ${replicas.length} replicas after ${logins} POP3 logins\n`,
      );
      const message = compose('bob@west.siroe.example', 'alice@siroe.example', subject);
      await send(
        ZONES.engineer,
        balancer(deployed.balancer.submission),
        'bob@west.siroe.example',
        'alice@siroe.example',
        message,
        true,
      );
      await readsBackUnchanged('alice', subject, message);
    });
  });

  describe('refusals at the edge', () => {
    const edge = () => balancer(deployed.balancer.smtp);
    const edgeSelector = 'app.kubernetes.io/instance=edge-mta';
    const inboundSelector = 'app.kubernetes.io/instance=inbound-mta';
    const accepted = () => tierCounter(SITE_NAMESPACE, edgeSelector, 'mtopo_mta_messages_received_total');
    const bounced = async () =>
      (await tierCounter(SITE_NAMESPACE, edgeSelector, 'mtopo_mta_recipients_total', {
        outcome: 'bounced',
      })) +
      (await tierCounter(SITE_NAMESPACE, inboundSelector, 'mtopo_mta_recipients_total', {
        outcome: 'bounced',
      }));

    test('an unknown user is refused with 550 5.1.1 at RCPT: nothing is queued, so no bounce can follow', async () => {
      const [acceptedBefore, bouncedBefore] = [await accepted(), await bounced()];
      const steps = await smtpSteps(deployed.outside, ZONES.internet, edge(), {
        from: 'someone@example.org',
        to: `nobody-${tag}@siroe.example`,
        bodyBytes: 2_000,
      });
      const refusal = firstRefusal(steps);
      assert.equal(refusal?.step, 'RCPT', describeSteps(steps));
      assert.equal(refusal.code, 550, describeSteps(steps));
      assert.match(refusal.text, /^5\.1\.1 /);
      assert.equal(await accepted(), acceptedBefore, 'the edge accepted no message');
      assert.equal(await bounced(), bouncedBefore, 'no tier bounced anything');
    });

    test('a relay attempt (internet to internet) is refused at RCPT with 554 5.7.1', async () => {
      const acceptedBefore = await accepted();
      const steps = await smtpSteps(deployed.outside, ZONES.internet, edge(), {
        from: 'someone@example.org',
        to: `someone-${tag}@${TEST_INTERNET.domain}`,
        bodyBytes: 2_000,
      });
      const refusal = firstRefusal(steps);
      assert.equal(refusal?.step, 'RCPT', describeSteps(steps));
      assert.equal(refusal.code, 554, describeSteps(steps));
      assert.match(refusal.text, /^5\.7\.1 /);
      assert.equal(await accepted(), acceptedBefore, 'the edge accepted no message');
    });

    // The edge's limit is the MTARelay default, 25 MiB.
    const limit = 25 * 2 ** 20;
    test('a message declared over the size limit is refused at MAIL with 552 5.3.4', async () => {
      const steps = await smtpSteps(deployed.outside, ZONES.internet, edge(), {
        from: 'someone@example.org',
        to: 'alice@siroe.example',
        declareSize: limit + 1,
      });
      const refusal = firstRefusal(steps);
      assert.equal(refusal?.step, 'MAIL', describeSteps(steps));
      assert.equal(refusal.code, 552, describeSteps(steps));
      assert.match(refusal.text, /^5\.3\.4 /);
    });

    test('a message over the size limit sent without declaring it is refused after DATA with 552 5.3.4, and not stored', async () => {
      const acceptedBefore = await accepted();
      const subject = `e2e-oversize-${tag}`;
      const steps = await smtpSteps(deployed.outside, ZONES.internet, edge(), {
        from: 'someone@example.org',
        to: 'alice@siroe.example',
        bodyBytes: limit + 1_000_000,
        subject,
      });
      const refusal = firstRefusal(steps);
      assert.equal(refusal?.step, 'DATA', describeSteps(steps));
      assert.equal(refusal.code, 552, describeSteps(steps));
      assert.match(refusal.text, /^5\.3\.4 /);
      assert.equal(await accepted(), acceptedBefore, 'the edge accepted no message');
    });

    // From the internet zone: no login ever came from there, so POP-before-SMTP cannot vouch for it
    // (the engineering zone has logged in by now).
    test("an unauthenticated submission at the MMP pool's SMTP proxy gets no transaction, even for a local user", async () => {
      const steps = await smtpSteps(
        deployed.outside,
        ZONES.internet,
        balancer(deployed.balancer.submission),
        { from: 'carol@siroe.example', to: 'bob@west.siroe.example', bodyBytes: 2_000 },
      );
      const refusal = firstRefusal(steps);
      assert.ok(refusal !== undefined && refusal.code >= 500, describeSteps(steps));
      assert.match(refusal.text, /^5\.7\.[0-9] /, describeSteps(steps));
      assert.ok(!steps.some((s) => s.step === 'DATA'), describeSteps(steps));
    });
  });

  test("behind HAProxy's PROXY header, the MTA's and the MMP's logs show the real client address", async () => {
    /** The tier's logs, once they name `client`. */
    const logsNaming = (instance: string, client: string) =>
      waitFor(
        `${instance} to log ${client}`,
        async () => {
          const logs = await tierLogs(`app.kubernetes.io/instance=${instance}`);
          return logs.includes(client) ? logs : undefined;
        },
        WAIT,
      );
    const edge = await logsNaming('edge-mta', ZONES.internet);
    assert.ok(edge.includes(ZONES.internet));
    const mmp = await logsNaming('access-mmp', ZONES.contractor);
    assert.ok(mmp.includes(ZONES.contractor));
    // The balancer's own address is what the pods see on the wire; it must not pass for the client.
    assert.ok(!/client[^\n]*10\.251\.0\.1\b/.test(mmp), 'the MMP logs the balancer as a client');
  });

  test('kubectl mtopo route asks a running MTA tier where an address goes, as its RCPT TO decides', async () => {
    // As a user runs it: the CLI with the kubeconfig and kubectl on the PATH, nothing else.
    const mtopo = async (...args: string[]) => {
      const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(
          process.execPath,
          [path.join(REPO_ROOT, 'operator/src/cli/main.ts'), 'route', ...args],
          {
            env: {
              ...process.env,
              KUBECONFIG: testKubeconfigPath(),
              PATH: `${clusterBinDir()}:${process.env.PATH ?? ''}`,
            },
          },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
        ),
      );
      assert.equal(result.code, 0, result.stderr);
      return result.stdout;
    };
    const alice = await mtopo('alice@siroe.example', '-n', SITE_NAMESPACE);
    assert.match(alice, /^Asked inbound-mta-\d \(MTARelay inbound, inbound\):$/m);
    assert.match(alice, /^ {2}at RCPT TO: accepted \(250\)$/m);
    assert.match(
      alice,
      /→ alice@siroe\.example: deliver via LMTP siroe-store-0\.siroe-store\.mail\.svc\.cluster\.local:\d+/,
    );
    const json = (text: string) =>
      JSON.parse(text) as {
        atRcpt: string;
        destinations: { address: string; outcome: string; via?: string }[];
      };
    const unknown = json(
      await mtopo('nobody-here@siroe.example', 'siroe', '-n', SITE_NAMESPACE, '-o', 'json'),
    );
    assert.match(unknown.atRcpt, /^refused: 550 5\.1\.1 /);
    assert.deepEqual(unknown.destinations, []);
    const forward = json(await mtopo('dan@siroe.example', '-n', SITE_NAMESPACE, '-o', 'json'));
    assert.deepEqual(
      forward.destinations.map((d) => [d.address, d.outcome]),
      [[`dan@${TEST_INTERNET.domain}`, 'deliver']],
    );
    assert.match(forward.destinations[0]!.via ?? '', /^SMTP outbound-mta(-headless)?\./);
    // The edge answers as it does at RCPT: by asking the inbound tier.
    const atEdge = await mtopo('bob@west.siroe.example', '-n', SITE_NAMESPACE, '--tier', 'edge');
    assert.match(atEdge, /^Asked edge-mta-\d \(MTARelay edge, internet\):$/m);
    assert.match(atEdge, /at RCPT TO: accepted \(250\)/);
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

  test('helm upgrade to a release with new data-plane images: the stores restart on them, and the mail they held is still there', async () => {
    const found = async (subject: string) => (await inboxUids(ZONES.engineer, 'bob', subject)).length;
    const subject = `e2e-before-upgrade-${tag}`;
    const sent = await sendMail(deployed.outside, ZONES.internet, balancer(deployed.balancer.smtp), {
      from: 'someone@example.org',
      to: 'bob@west.siroe.example',
      subject,
    });
    assert.ok(sent.accepted, sent.transcript);
    await waitFor(`${subject} in bob's INBOX`, async () => (await found(subject)) === 1, WAIT);

    // The new release's store image: the same bytes under a new tag, so every store pod must restart.
    const started = Date.now();
    const image = await retagProgramImage('store', `${VERSION}-next`);
    const storePods = async () => (await pods()).filter((p) => p.name.startsWith('siroe-store-'));
    const before = new Set((await storePods()).map((p) => p.uid));
    await upgradeOperator({ images: { store: image } });
    await waitFor(
      `every store pod restarted on ${image} and Ready`,
      async () => {
        const stores = await storePods();
        return (
          stores.length === deployed.site.store.replicas &&
          stores.every((p) => p.ready && !before.has(p.uid) && p.images[0] === image)
        );
      },
      { timeoutMs: 600_000, intervalMs: 2_000 },
    );
    await siteReady();
    process.stderr.write(
      `upgrade: stores on ${image} and the site Ready ${((Date.now() - started) / 1000).toFixed(0)}s after helm upgrade began\n`,
    );
    assert.equal(await found(subject), 1, 'the message delivered before the upgrade, once');
    // And what the journeys delivered to bob earlier in this file.
    assert.equal(await found(`e2e-journey-bob-${tag}`), 1);
  });

  // Last: it moves carol to another store.
  test('a user moved to another store by the documented procedure: logins land there, no mail lost, old sessions ended', async () => {
    const subject = `e2e-move-${tag}`;
    const carol = { user: 'carol', password: 'carol-pw' };
    const smtp = balancer(deployed.balancer.smtp);
    let sent = 0;
    const send = async (phase: string) => {
      const result = await sendMail(deployed.outside, ZONES.internet, smtp, {
        from: 'someone@example.org',
        to: 'carol@siroe.example',
        subject: `${subject} ${phase} ${sent}`,
      });
      assert.ok(result.accepted, result.transcript);
      sent++;
    };
    const readable = async () => (await inboxUids(ZONES.contractor, 'carol', subject)).length;
    for (let i = 0; i < 3; i++) await send('before');
    await waitFor('the three messages on carol’s old store', async () => (await readable()) === 3, WAIT);
    const held = await holdSession(deployed, ZONES.contractor, carol);
    deployed.onTeardown(() => held.process.stop());
    const moved = await moveUser(
      deployed,
      { uid: 'carol', from: 'siroe-store-2', to: 'siroe-store-1', cacheSeconds: 60 },
      // Mail sent while the caches still hold the old mailHost: it reaches either store.
      async () => {
        for (let i = 0; i < 2; i++) await send('during');
      },
    );
    process.stderr.write(`move: ${moved.copied.trim().split('\n').at(-1)}; ended ${moved.ended}\n`);
    // Carol's INBOX on the old store held the three sent before (and those sent during that it got).
    const onOld = Number(/^INBOX: (\d+) on siroe-store-2/m.exec(moved.copied)?.[1]);
    assert.ok(onOld >= 3 && onOld <= 5, moved.copied);
    assert.ok(moved.ended >= 1, `end-sessions ended ${moved.ended}`);
    await waitFor('the held session to be ended by the MMP', () => !held.process.running, WAIT);
    assert.match(held.log(), /ended by the server/);
    for (let i = 0; i < 2; i++) await send('after');
    // New logins (their cache dropped) reach the new store: every message sent is there.
    await waitFor(
      `all ${sent} messages readable through the MMP pool`,
      async () => (await readable()) === sent,
      WAIT,
    );
    assert.equal(await readable(), 7);
  });
});
