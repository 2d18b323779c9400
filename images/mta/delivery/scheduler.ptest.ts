// Delivery against real next hops: per-recipient LMTP replies (a store played by smtp-server in LMTP
// mode), retries with backoff that do not deliver twice, and RFC 3464 bounces — for a permanent
// refusal (smtp-sink refusing RCPT) and for a message whose lifetime ran out (a clock moved on).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { createLogger } from '../../lib/log.ts';
import { createRegistry } from '../../lib/metrics.ts';
import { freePort } from '../../../testing/support/free-ports.ts';
import { waitFor } from '../../../testing/support/wait.ts';
import { startSmtpSink, type SmtpSink } from '../../../testing/peers/smtp-sink.ts';
import { makeTempDir } from '../../../testing/support/temp-dir.ts';
import type { DirectoryEntry } from '../../lib/directory/entry.ts';
import { newQueueId, type Envelope } from '../core/envelope.ts';
import { buildRoutingTable, RecipientRouter } from '../core/routing.ts';
import { mtaMetrics, type QueueStats } from '../metrics.ts';
import { Spool } from '../spool/spool.ts';
import { testConfig } from '../testing/test-config.ts';
import { createConnector } from './connector.ts';
import type { MxAnswer } from './mx-resolver.ts';
import { DeliveryScheduler } from './scheduler.ts';

const temp = makeTempDir('delivery');
const logger = createLogger({ program: 'test', level: process.env.TEST_LOG === '1' ? 'info' : 'silent' });

/** A store that answers each recipient after DATA as `decide` says (RFC 2033 section 4.2). */
interface LmtpStore {
  port: number;
  received: { to: string; body: string }[];
  close(): Promise<void>;
}

async function startLmtpStore(decide: (rcpt: string, attempt: number) => string | Error): Promise<LmtpStore> {
  const received: LmtpStore['received'] = [];
  const attempts = new Map<string, number>();
  const server = new SMTPServer({
    lmtp: true,
    authOptional: true,
    hideSTARTTLS: true,
    disableReverseLookup: true,
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        callback(
          null,
          session.envelope.rcptTo.map((r) => {
            const n = (attempts.get(r.address) ?? 0) + 1;
            attempts.set(r.address, n);
            const answer = decide(r.address, n);
            if (typeof answer === 'string') received.push({ to: r.address, body });
            return answer;
          }),
        );
      });
    },
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { port, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const refusal = (code: number, text: string) => Object.assign(new Error(text), { responseCode: code });

const entries: Record<string, Partial<DirectoryEntry>> = {
  'alice@example.test': { mailHost: 'store-a' },
  'bob@example.test': { mailHost: 'store-a' },
  'carol@example.test': { mailHost: 'store-a' },
};

async function scheduler(options: {
  name: string;
  storePort: number;
  /** Remote mail through this smarthost; without one, by MX (answered by `mx`). */
  smarthostPort?: number;
  mx?: { resolve: (domain: string) => Promise<MxAnswer>; port: number };
  now?: () => number;
}) {
  const config = testConfig('outbound', {
    stores: { 'store-a': { host: '127.0.0.1', lmtpPort: options.storePort, imapPort: 1, pop3Port: 1 } },
    ...(options.smarthostPort
      ? { smarthost: { host: '127.0.0.1', port: options.smarthostPort, tls: 'none' as const } }
      : {}),
  });
  const router = new RecipientRouter(buildRoutingTable(config), (address) => {
    const e = entries[address.toLowerCase()];
    return Promise.resolve(
      e
        ? {
            kind: 'found',
            entry: {
              dn: `uid=${address}`,
              uid: address,
              mail: address,
              aliases: [],
              forwardTo: [],
              mailHost: undefined,
              ...e,
            },
          }
        : { kind: 'none' },
    );
  });
  const spool = await Spool.open(join(temp.path, options.name));
  const registry = createRegistry('test', false);
  let stats: () => QueueStats = () => ({ depth: 0, oldestArrival: undefined });
  const metrics = mtaMetrics(registry, 'outbound', () => stats());
  const s = new DeliveryScheduler({
    role: 'outbound',
    hostname: 'smtp.example.test',
    spool,
    router,
    retry: { initialMs: 300, maxMs: 600, lifetimeMs: 60_000 },
    concurrency: 2,
    connect: createConnector({
      name: 'smtp.example.test',
      timeouts: { connectMs: 2000, greetingMs: 2000, socketMs: 5000 },
      ...(options.mx ? { resolveMx: options.mx.resolve, mxPort: options.mx.port } : {}),
    }),
    logger,
    metrics,
    idleMs: 100,
    ...(options.now ? { now: options.now } : {}),
  });
  stats = () => s.stats();
  const submit = async (from: string, to: string[], subject: string) => {
    const envelope: Envelope = {
      id: newQueueId(),
      sender: from,
      recipients: to,
      arrivedAt: options.now?.() ?? Date.now(),
      bodyType: '7bit',
      smtpUtf8: false,
      client: { address: '127.0.0.1', helo: 'test' },
    };
    s.add(
      await spool.store(
        envelope,
        Buffer.from(`Subject: ${subject}\r\nMessage-ID: <${subject}@test>\r\n\r\nhello\r\n`),
      ),
    );
    return envelope.id;
  };
  return { scheduler: s, spool, submit, registry };
}

let deadSmarthost: number;
before(async () => {
  deadSmarthost = await freePort();
});
after(() => temp.remove());

describe('delivery to stores over LMTP', () => {
  it('settles each recipient by its own reply: delivered once, retried later, or bounced', async () => {
    const store = await startLmtpStore((rcpt, attempt) => {
      if (rcpt === 'bob@example.test' && attempt === 1) return refusal(452, '4.2.2 Mailbox full, try later');
      if (rcpt === 'carol@example.test') return refusal(550, '5.2.1 Mailbox disabled');
      return 'Ok';
    });
    const {
      scheduler: s,
      spool,
      submit,
    } = await scheduler({ name: 'lmtp', storePort: store.port, smarthostPort: deadSmarthost });
    try {
      await submit(
        'alice@example.test',
        ['alice@example.test', 'bob@example.test', 'carol@example.test'],
        'per-rcpt',
      );
      await waitFor(
        'bob to be delivered on the retry',
        () => store.received.some((r) => r.to === 'bob@example.test'),
        10_000,
      );
      await waitFor(
        'the bounce for carol to reach the sender',
        () =>
          store.received.some(
            (r) =>
              r.to === 'alice@example.test' && r.body.includes('Final-Recipient: rfc822; carol@example.test'),
          ),
        10_000,
      );
      await waitFor('the queue to empty', () => s.stats().depth === 0, 10_000);
      const originals = store.received.filter((r) => r.body.startsWith('Subject: per-rcpt'));
      assert.deepEqual(
        originals.map((r) => r.to).sort(),
        ['alice@example.test', 'bob@example.test'],
        'alice once (not again on the retry), bob once',
      );
      const bounce = store.received.find((r) => r.body.includes('message/delivery-status'))!;
      assert.match(bounce.body, /Status: 5\.2\.1\r\n/);
      assert.match(bounce.body, /Diagnostic-Code: smtp; 550 5\.2\.1 Mailbox disabled/);
      assert.doesNotMatch(bounce.body, /Final-Recipient: rfc822; (alice|bob)@/);
    } finally {
      await s.stop(1000);
      await spool.close();
      await store.close();
    }
  });
});

describe('bounces (RFC 3464)', () => {
  let lmtpSink: SmtpSink;
  before(async () => {
    lmtpSink = await startSmtpSink(join(temp.path, 'lmtp-sink'), { lmtp: true });
  });
  after(() => lmtpSink.stop());

  it('returns a message the smarthost refuses for good to its sender, at once', async () => {
    const refusing = await startSmtpSink(join(temp.path, 'refusing'), { extraArgs: ['-f', 'RCPT'] });
    const {
      scheduler: s,
      spool,
      submit,
    } = await scheduler({ name: 'refused', storePort: lmtpSink.port, smarthostPort: refusing.port });
    try {
      const id = await submit('alice@example.test', ['friend@remote.example'], 'refused-remote');
      await waitFor(
        "the bounce at the sender's store",
        () => lmtpSink.messages().some((m) => m.includes(`X-Mtopo-Queue-ID: ${id}`)),
        10_000,
      );
      const dsn = lmtpSink.messages().find((m) => m.includes(`X-Mtopo-Queue-ID: ${id}`))!;
      assert.match(dsn, /X-Mail-Args: <>/, 'from the null sender');
      assert.match(dsn, /Content-Type: multipart\/report; report-type=delivery-status/);
      assert.match(
        dsn,
        /Final-Recipient: rfc822; friend@remote\.example\nAction: failed\nStatus: 5\.\d\.\d+\n/,
      );
      assert.match(dsn, /Subject: refused-remote/, 'the original headers come back');
    } finally {
      await s.stop(1000);
      await spool.close();
      await refusing.stop();
    }
  });

  it('retries with backoff while the lifetime lasts, then bounces with 4.4.7', async () => {
    let clock = Date.now();
    const {
      scheduler: s,
      spool,
      submit,
      registry,
    } = await scheduler({
      name: 'expired',
      storePort: lmtpSink.port,
      smarthostPort: deadSmarthost,
      now: () => clock,
    });
    try {
      const id = await submit('alice@example.test', ['friend@remote.example'], 'expiring');
      const deferred = async () =>
        (await registry.getSingleMetric('mtopo_mta_recipients_total')?.get())?.values.find(
          (v) => v.labels.outcome === 'deferred',
        )?.value ?? 0;
      await waitFor('two failed attempts (a retry happened)', async () => (await deferred()) >= 2, 10_000);
      assert.equal(
        lmtpSink.messages().filter((m) => m.includes(`X-Mtopo-Queue-ID: ${id}`)).length,
        0,
        'no bounce while the lifetime lasts',
      );
      clock += 61_000;
      await waitFor(
        'the expiry bounce',
        () => lmtpSink.messages().some((m) => m.includes(`X-Mtopo-Queue-ID: ${id}`)),
        10_000,
      );
      const dsn = lmtpSink.messages().find((m) => m.includes(`X-Mtopo-Queue-ID: ${id}`))!;
      assert.match(dsn, /Status: 4\.4\.7\n/);
      assert.match(dsn, /Diagnostic-Code: smtp; delivery time expired; last error: /);
      assert.match(dsn, /could not be delivered in the time it was kept in the queue/);
      await waitFor('the queue to empty', () => s.stats().depth === 0, 5000);
    } finally {
      await s.stop(1000);
      await spool.close();
    }
  });

  it('never bounces a bounce: undeliverable mail from the null sender is dropped', async () => {
    const refusing = await startSmtpSink(join(temp.path, 'refusing-2'), { extraArgs: ['-f', 'RCPT'] });
    const {
      scheduler: s,
      spool,
      submit,
    } = await scheduler({ name: 'null-sender', storePort: lmtpSink.port, smarthostPort: refusing.port });
    try {
      const before = lmtpSink.messages().length;
      await submit('', ['friend@remote.example'], 'bounce-of-bounce');
      await waitFor('the queue to empty', () => s.stats().depth === 0, 10_000);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(lmtpSink.messages().length, before);
    } finally {
      await s.stop(1000);
      await spool.close();
      await refusing.stop();
    }
  });
});

describe('delivery to the internet by MX', () => {
  let lmtpSink: SmtpSink;
  let mxHost: SmtpSink;
  before(async () => {
    lmtpSink = await startSmtpSink(join(temp.path, 'mx-lmtp'), { lmtp: true });
    mxHost = await startSmtpSink(join(temp.path, 'mx-host'));
  });
  after(async () => {
    await lmtpSink.stop();
    await mxHost.stop();
  });

  it('tries the MX hosts in order, and returns mail for a domain with a null MX (RFC 7505)', async () => {
    const asked: string[] = [];
    const {
      scheduler: s,
      spool,
      submit,
    } = await scheduler({
      name: 'mx',
      storePort: lmtpSink.port,
      mx: {
        port: mxHost.port,
        resolve: (domain) => {
          asked.push(domain);
          // The first host does not answer; the second is our smtp-sink.
          if (domain === 'remote.example')
            return Promise.resolve({ kind: 'hosts', hosts: ['127.0.0.2', '127.0.0.1'] });
          return Promise.resolve({ kind: 'null-mx' });
        },
      },
    });
    try {
      await submit('alice@example.test', ['friend@remote.example'], 'by-mx');
      const nullMx = await submit('alice@example.test', ['someone@nomail.example'], 'null-mx');
      await waitFor(
        'the message at the second MX host',
        () => mxHost.messages().some((m) => m.includes('Subject: by-mx')),
        10_000,
      );
      await waitFor(
        'the null-MX bounce',
        () => lmtpSink.messages().some((m) => m.includes(`X-Mtopo-Queue-ID: ${nullMx}`)),
        10_000,
      );
      const dsn = lmtpSink.messages().find((m) => m.includes(`X-Mtopo-Queue-ID: ${nullMx}`))!;
      assert.match(dsn, /Status: 5\.1\.10\n/);
      assert.deepEqual([...new Set(asked)].sort(), ['nomail.example', 'remote.example']);
    } finally {
      await s.stop(1000);
      await spool.close();
    }
  });
});
