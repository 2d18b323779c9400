// What goes wrong in production, on the real node (issue 13's faults), against a deployment of its
// own: siroe with 2 stores (scaled to 3 in the rolling update) and the operator with 2 replicas (one leads).
// Under a steady load (mail-load.ts: Python's smtplib through the PROXY balancer to the edge, each
// message unique), every acknowledged message must be in its mailbox exactly once, as sent, read
// through the MMP pool over IMAP; no sender sees a 5xx. Each fault prints its counts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { publishedHostnames } from '../../operator/src/render/site.ts';
import { kubectl } from '../../testing/control-plane/kubectl.ts';
import { waitFor } from '../../testing/support/wait.ts';
import { WAIT } from '../support.ts';
import {
  deploySite,
  LEGACY_DOMAIN,
  OPERATOR_NAMESPACE,
  SITE_NAMESPACE,
  USERS,
  ZONES,
  type DeployedSite,
} from './deploy-site.ts';
import {
  compareDelivery,
  imapLogin,
  mailboxMessages,
  startMailLoad,
  type ImapReader,
  type LoadCounts,
  type MailLoad,
} from './mail-load.ts';
import { sendMail } from './mail-clients.ts';
import { startOutsideDirectory } from './outside-directory.ts';
import { startOutsideLegacy } from './outside-legacy.ts';
import { jsonpathOf, patch, podUid, pods, siteReady, tierLogs } from './site-state.ts';

const account = (uid: string) => {
  const user = USERS.find((u) => u.uid === uid)!;
  return { user: user.uid, password: user.password ?? '', mail: user.mail };
};

describe('siroe on the real node: faults', () => {
  let deployed: DeployedSite;
  let reader: ImapReader;
  const tag = randomBytes(4).toString('hex');
  const report = (fault: string, line: string) => process.stderr.write(`fault: ${fault}: ${line}\n`);

  before(async () => {
    // The chart goes on as Argo CD puts it on (helm template, server-side apply): the operator's
    // NetworkPolicy is then its fallback, which every fault below has the operator work behind.
    deployed = await deploySite({ storeReplicas: 2, operatorReplicas: 2, operatorInstall: 'template' });
    reader = {
      outside: deployed.outside,
      source: ZONES.contractor,
      server: { host: deployed.haproxy.address, port: deployed.balancer.imap },
      hostname: publishedHostnames(deployed.site).clients,
      caFile: deployed.caFile,
    };
  });
  after(async () => {
    await deployed?.teardown();
  });

  const load = (name: string, to: string[]): MailLoad =>
    startMailLoad(deployed.outside, deployed.scratch, {
      prefix: `${name}-${tag}`,
      source: ZONES.internet,
      server: { host: deployed.haproxy.address, port: deployed.balancer.smtp },
      to,
    });

  /** Waits until every acknowledged message of the load is in its recipient's mailbox; asserts none lost twice or altered. */
  async function delivered(
    fault: string,
    mail: MailLoad,
    counts: LoadCounts,
    started: number,
  ): Promise<void> {
    const events = mail.events();
    const recipients = [...new Set(events.filter((e) => e.event === 'ack').map((e) => e.to!))];
    let total = 0;
    for (const to of recipients) {
      const user = account(USERS.find((u) => u.mail === to)!.uid);
      const mine = events.filter((e) => e.to === to);
      const result = await waitFor(
        `every acknowledged message of ${mail.prefix} in ${user.user}'s INBOX`,
        async () => {
          const found = await mailboxMessages(reader, account(user.user), mail.prefix);
          const delivery = compareDelivery(mail.prefix, mine, found);
          return delivery.lost.length === 0 ? delivery : undefined;
        },
        { timeoutMs: 420_000, intervalMs: 5_000 },
      );
      assert.deepEqual(result.duplicated, [], `${user.user}: acknowledged messages delivered twice`);
      assert.deepEqual(result.altered, [], `${user.user}: messages not as sent`);
      total += result.delivered;
    }
    report(
      fault,
      `sent ${counts.sent}, acknowledged ${counts.acknowledged}, delivered ${total}, lost 0, ` +
        `4xx ${counts.fourXX}, 5xx ${counts.fiveXX}, connection failures ${counts.connectionFailures}, ` +
        `ambiguous ${counts.ambiguous}, ${((Date.now() - started) / 1000).toFixed(0)}s`,
    );
    assert.deepEqual(counts.fiveXXReplies, [], 'no sender sees a 5xx');
  }

  test("installed from `helm template` (no lookup), the operator runs behind its policy's fallback: egress to the API server's ports only", async () => {
    const policy = JSON.parse(
      (await kubectl(['-n', OPERATOR_NAMESPACE, 'get', 'networkpolicy', 'mtopo', '-o', 'json'])).stdout,
    ) as { spec: { policyTypes: string[]; egress: { ports: { port: number }[]; to?: unknown[] }[] } };
    assert.deepEqual(policy.spec.policyTypes, ['Ingress', 'Egress']);
    assert.deepEqual(
      policy.spec.egress.map((e) => ({ ports: e.ports.map((p) => p.port), to: e.to })),
      [{ ports: [443, 6443], to: undefined }],
      'any address, on 443 and 6443 only',
    );
    // Both replicas are Ready, and one leads: they reach the API server through the policy.
    const operators = await pods(OPERATOR_NAMESPACE);
    assert.equal(operators.filter((p) => p.ready).length, 2, JSON.stringify(operators));
    const holder = await jsonpathOf('lease/mtopo-operator', '{.spec.holderIdentity}', OPERATOR_NAMESPACE);
    assert.ok(
      operators.some((p) => p.name === holder),
      `the Lease names a running replica: ${holder}`,
    );
  });

  test('a deleted pod comes back and the site is Ready again', async () => {
    const before = await podUid('inbound-mta-0');
    await kubectl(['-n', SITE_NAMESPACE, 'delete', 'pod', 'inbound-mta-0', '--wait=false']);
    await waitFor(
      'inbound-mta-0 to come back',
      async () => {
        const pod = (await pods()).find((p) => p.name === 'inbound-mta-0');
        return pod?.ready === true && pod.uid !== before;
      },
      WAIT,
    );
    await siteReady();
  });

  test('a store pod deleted while mail flows to it: inbound queues and retries, every acknowledged message arrives once', async () => {
    const started = Date.now();
    const mail = load('store', [account('alice').mail]);
    await waitFor('the load to be acknowledged', () => mail.counts().acknowledged >= 10, WAIT);
    const before = await podUid('siroe-store-0');
    await kubectl(['-n', SITE_NAMESPACE, 'delete', 'pod', 'siroe-store-0', '--wait=false']);
    await waitFor(
      'siroe-store-0 to come back',
      async () => (await pods()).some((p) => p.name === 'siroe-store-0' && p.ready && p.uid !== before),
      WAIT,
    );
    const acknowledgedBack = mail.counts().acknowledged;
    await waitFor('mail to keep flowing', () => mail.counts().acknowledged >= acknowledgedBack + 10, WAIT);
    await delivered('store pod deleted under load', mail, await mail.stop(), started);
  });

  test('no acknowledged message is lost when the MTA pod holding it is deleted: its volume comes back', async () => {
    const recipient = `erin-${tag}@${LEGACY_DOMAIN}`;
    const subject = `e2e-queued-${tag}`;
    const claim = await jsonpathOf(
      'pod/legacy-gw-mta-0',
      '{.spec.volumes[?(@.persistentVolumeClaim)].persistentVolumeClaim.claimName}',
    );
    const volume = await jsonpathOf(`pvc/${claim}`, '{.spec.volumeName}');
    // The legacy system is down: the gateway acknowledges nothing it has not queued, and queues.
    await deployed.legacy.stop();
    const sent = await sendMail(
      deployed.outside,
      ZONES.internet,
      { host: deployed.haproxy.address, port: deployed.balancer.smtp },
      { from: 'someone@example.org', to: recipient, subject },
    );
    assert.ok(sent.accepted, sent.transcript);
    await waitFor(
      'the gateway to defer the message',
      async () => {
        const logs = await tierLogs('app.kubernetes.io/instance=legacy-gw-mta');
        return logs.split('\n').some((l) => l.includes('delivery deferred') && l.includes(recipient));
      },
      WAIT,
    );
    const before = await podUid('legacy-gw-mta-0');
    await kubectl(['-n', SITE_NAMESPACE, 'delete', 'pod', 'legacy-gw-mta-0', '--wait=true'], {
      timeoutMs: 120_000,
    });
    const legacy = await startOutsideLegacy(deployed.outside, deployed.legacyDir, ZONES.notes, [
      LEGACY_DOMAIN,
    ]);
    deployed.onTeardown(() => legacy.stop());
    await waitFor(
      'legacy-gw-mta-0 to come back',
      async () => (await pods()).some((p) => p.name === 'legacy-gw-mta-0' && p.ready && p.uid !== before),
      WAIT,
    );
    assert.equal(await jsonpathOf(`pvc/${claim}`, '{.spec.volumeName}'), volume, 'the same volume');
    // The first retry comes a minute after the failure (queue.retryInitial), from the spool on the volume.
    const message = await waitFor(
      'the queued message at the legacy Postfix',
      () => legacy.messages().find((m) => m.includes(`Subject: ${subject}`)),
      { timeoutMs: 420_000, intervalMs: 1_000 },
    );
    assert.match(message, new RegExp(`Delivered-To: ${recipient.replace(/\./g, '\\.')}`));
  });

  test('the directory down: senders get 4xx never 5xx, no bounce, logins fail temporarily; all recovers', async () => {
    const started = Date.now();
    await deployed.directory.stop();
    const mail = load('directory', [account('alice').mail, account('bob').mail]);
    try {
      const login = await waitFor(
        'an MMP login to fail temporarily',
        async () => {
          const answer = await imapLogin(reader, account('bob'));
          return answer.ok ? undefined : answer;
        },
        WAIT,
      );
      assert.match(login.reply, /UNAVAILABLE/, 'a temporary failure, not a refused password');
      // Attempts, not messages: a 4xx keeps the sender on the same message.
      await waitFor('the load to meet the outage', () => mail.events().length >= 5, WAIT);
    } finally {
      const directory = await startOutsideDirectory(
        deployed.outside,
        `${deployed.scratch}/directory-again`,
        ZONES.directory,
        USERS,
        deployed.directoryTls,
      );
      deployed.onTeardown(() => directory.stop());
    }
    await waitFor('MMP logins to work again', async () => (await imapLogin(reader, account('bob'))).ok, WAIT);
    const counts = await mail.stop();
    await delivered('directory down', mail, counts, started);
    const logs = await tierLogs('app.kubernetes.io/component=mta');
    assert.ok(!logs.includes('bounce queued'), 'no bounce generated');
  });

  test('scaling a tier converges to the new replica count', async () => {
    await patch('mmppool', 'access', { spec: { replicas: 2 } });
    await waitFor(
      'the MMP pool to run 2 pods',
      async () => {
        const ready = (await pods()).filter((p) => p.name.startsWith('access-mmp-'));
        const replicas = await jsonpathOf('deployment/access-mmp', '{.status.replicas}');
        return ready.length === 2 && ready.every((p) => p.ready) && replicas === '2';
      },
      WAIT,
    );
    await siteReady('mmppool/access');
  });

  test("the operator's leader deleted: the standby leads within the lease and converges a change made meanwhile", async () => {
    const lease = async () =>
      JSON.parse(
        (await kubectl(['-n', OPERATOR_NAMESPACE, 'get', 'lease', 'mtopo-operator', '-o', 'json'])).stdout,
      ) as { spec: { holderIdentity?: string; leaseDurationSeconds?: number } };
    const held = await lease();
    const leader = held.spec.holderIdentity!;
    const duration = held.spec.leaseDurationSeconds!;
    const operators = (await pods(OPERATOR_NAMESPACE)).map((p) => p.name);
    assert.equal(operators.length, 2, operators.join(' '));
    assert.ok(operators.includes(leader), `the Lease names a running pod: ${leader}`);
    const started = Date.now();
    await kubectl(['-n', OPERATOR_NAMESPACE, 'delete', 'pod', leader, '--wait=false']);
    await patch('mmppool', 'access', { spec: { replicas: 3 } });
    const next = await waitFor(
      'another replica to hold the Lease',
      async () => {
        const holder = (await lease()).spec.holderIdentity;
        // A leader that stops hands the Lease back (an empty holder): that is not the standby leading.
        return holder !== undefined && holder !== '' && holder !== leader ? holder : undefined;
      },
      WAIT,
    );
    const tookOver = (Date.now() - started) / 1000;
    await waitFor(
      'the MMP pool to run 3 pods',
      async () => (await jsonpathOf('deployment/access-mmp', '{.status.readyReplicas}')) === '3',
      WAIT,
    );
    await siteReady('mmppool/access');
    report(
      'operator leader deleted',
      `${next} leads ${tookOver.toFixed(1)}s after the delete (lease ${duration}s), change converged in ${((Date.now() - started) / 1000).toFixed(0)}s`,
    );
    // The kubelet needs the pod's grace period to stop the old leader; the lease runs out after that.
    assert.ok(tookOver <= duration + 45, `took over in ${tookOver}s`);
  });

  test("a spec change rolls the tier's pods onto the new config", async () => {
    const hashOf = () => jsonpathOf('pod/inbound-mta-1', `{.metadata.annotations.mtopo\\.dev/config-hash}`);
    const before = await hashOf();
    await patch('mtarelay', 'inbound', { spec: { limits: { maxMessageSize: '20Mi' } } });
    await kubectl(['-n', SITE_NAMESPACE, 'rollout', 'status', 'statefulset/inbound-mta', '--timeout=600s'], {
      timeoutMs: 620_000,
    });
    await waitFor(
      'inbound-mta-1 on the new config',
      async () => {
        const hash = await hashOf().catch(() => before);
        return hash !== before && (await pods()).some((p) => p.name === 'inbound-mta-1' && p.ready);
      },
      WAIT,
    );
    const configs = await kubectl(['-n', SITE_NAMESPACE, 'get', 'configmaps', '-o', 'json']);
    assert.match(configs.stdout, /maxMessageBytes\\": 20971520/);
    await siteReady('mtarelay/inbound');
  });

  // Scaling the stores is itself a change of every tier: each MTA's and MMP's config maps the
  // mailHosts to stores. So the stores go from 2 to 3 in the same rollout, and the next test checks
  // the new store.
  test('a rolling update of every tier (the stores scaled 2 to 3, every config changed) under a steady load: nothing acknowledged lost, no 5xx', async () => {
    const started = Date.now();
    const mail = load('rollout', [account('alice').mail, account('bob').mail]);
    await waitFor('the load to be acknowledged', () => mail.counts().acknowledged >= 10, WAIT);
    const hashes = async () =>
      (
        await kubectl([
          '-n',
          SITE_NAMESPACE,
          'get',
          'pods',
          '-o',
          'jsonpath={range .items[*]}{.metadata.name}={.metadata.annotations.mtopo\\.dev/config-hash}{"\\n"}{end}',
        ])
      ).stdout;
    const before = await hashes();
    for (const relay of ['edge', 'inbound', 'outbound', 'legacy-gw'])
      await patch('mtarelay', relay, { spec: { limits: { maxMessageSize: '21Mi' } } });
    await patch('mmppool', 'access', { spec: { smtpProxy: { popBeforeSmtp: { window: '11m' } } } });
    await patch('messagingtopology', 'siroe', {
      spec: { stores: { replicas: 3, quota: { messages: 100001 } } },
    });
    await siteReady(
      'mtarelay/edge',
      'mtarelay/inbound',
      'mtarelay/outbound',
      'mtarelay/legacy-gw',
      'mmppool/access',
    );
    const after = await hashes();
    const unchanged = before.split('\n').filter((l) => l !== '' && after.includes(l));
    assert.deepEqual(unchanged, [], 'every pod rolled onto a new config');
    await delivered('rolling update of every tier', mail, await mail.stop(), started);
  });

  test('the stores scaled from 2 to 3: the new mailHost is in the status and its user gets mail', async () => {
    const started = Date.now();
    const mailHosts = JSON.parse(await jsonpathOf('messagingtopology/siroe', '{.status.mailHosts}')) as {
      name: string;
      host: string;
    }[];
    assert.deepEqual(
      mailHosts.map((m) => m.name),
      ['siroe-store-0', 'siroe-store-1', 'siroe-store-2'],
    );
    assert.equal(
      mailHosts[2]!.host,
      `siroe-store-2.siroe-store.${SITE_NAMESPACE}.svc.cluster.local`,
      'the DNS name a mailHost may hold',
    );
    assert.equal(await jsonpathOf('statefulset/siroe-store', '{.status.readyReplicas}'), '3');
    // carol's entry names siroe-store-2: until now no store, from now the new one (read through the
    // MMP, which routes her login there and nowhere else).
    const mail = load('scaled', [account('carol').mail]);
    await waitFor('mail to carol acknowledged', () => mail.counts().acknowledged >= 5, WAIT);
    await delivered('stores scaled 2 to 3', mail, await mail.stop(), started);
  });
});
