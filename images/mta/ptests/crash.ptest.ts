// What the queue promises: a message acknowledged with 250 is on disk, so after `kill -9` — in the
// middle of receiving and delivering — and a restart, every acknowledged message still arrives (at
// least once). And on SIGTERM the MTA stops taking mail, finishes what it is doing, and keeps its
// queue for the next start.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../../testing/support/free-ports.ts';
import { waitFor } from '../../../testing/support/wait.ts';
import { startSmtpSink, type SmtpSink } from '../../../testing/peers/smtp-sink.ts';
import { SmtpTranscript } from '../../../testing/peers/smtp-transcript.ts';
import { makeTempDir } from '../../../testing/support/temp-dir.ts';
import { marker } from '../testing/clients.ts';
import { sendLoad } from '../testing/load.ts';
import { startMtaProcess, type MtaProcess } from '../testing/mta-process.ts';

const temp = makeTempDir('crash');
let sinkPort: number;
let sink: SmtpSink | undefined;
let mta: MtaProcess;

const startSink = async (name: string, extraArgs: string[] = []) =>
  startSmtpSink(join(temp.path, name), { port: sinkPort, extraArgs });

/** How many times each id arrived at the sink. */
function arrivals(s: SmtpSink, ids: string[]): Map<string, number> {
  const wanted = new Set(ids);
  const seen = new Map<string, number>();
  for (const m of s.messages()) {
    const id = /Message-ID: <([^@>]+)@load\.test>/i.exec(m)?.[1];
    if (id && wanted.has(id)) seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  return seen;
}

/** The load ids of the messages in the MTA's queue folder (queue/<id>.msg). */
function queuedIds(spoolDir: string): Set<string> {
  const ids = new Set<string>();
  const queue = join(spoolDir, 'queue');
  for (const name of readdirSync(queue).filter((n) => n.endsWith('.msg'))) {
    const id = /Message-ID: <([^@>]+)@load\.test>/i.exec(readFileSync(join(queue, name), 'latin1'))?.[1];
    if (id) ids.add(id);
  }
  return ids;
}

before(async () => {
  sinkPort = await freePort();
  mta = await startMtaProcess({
    role: 'internet',
    dir: join(temp.path, 'mta'),
    overrides: {
      relayTo: { host: '127.0.0.1', port: sinkPort, tls: 'none' },
      queue: { retryInitialSeconds: 1, retryMaxSeconds: 2 },
      limits: { messagesPerMinutePerClient: 1_000_000, deliveryConcurrency: 64 },
    },
  });
});

after(async () => {
  await mta?.stop();
  await sink?.stop();
  temp.remove();
});

describe('the queue under kill -9', () => {
  it('delivers every acknowledged message after a crash in the middle of receiving and delivering', async () => {
    // A next hop that waits two seconds before it takes each message: deliveries are in flight
    // when the MTA dies, and whatever was acknowledged in the last two seconds cannot have left
    // the queue yet. (How much else has left depends on the machine's load: receiving slows down
    // under load, the sink's wait does not, so "fewer than half delivered" held on a quiet machine
    // and failed at load 17 with 205 of 253 delivered — the queue held the other 48, nothing lost.)
    sink = await startSink('sink-1', ['-w', '2']);
    const tag = marker();
    let lastBeforeKill: string | undefined;
    const load = await sendLoad({
      port: mta.port,
      tag,
      messages: 600,
      sessions: 12,
      to: 'alice@example.test',
      onAck: (n, id) => {
        if (n === 250 && lastBeforeKill === undefined) {
          lastBeforeKill = id;
          void mta.kill();
        }
      },
    });
    assert.ok(lastBeforeKill, 'the MTA was killed under load');
    assert.ok(load.acknowledged.length >= 250, `${load.acknowledged.length} acknowledged`);
    assert.ok(load.errors > 0, 'sessions were cut by the kill');
    const s = sink;
    const atSink = arrivals(s, load.acknowledged);
    const inQueue = queuedIds(join(mta.dir, 'spool'));
    // Restart before asserting, so that a failure here does not leave the next tests without an MTA.
    mta = await mta.restart();
    // What the 250 promised, looked at before anything could repair it: every acknowledged message
    // was either delivered already or in the queue on disk when the MTA died.
    const lost = load.acknowledged.filter((id) => !atSink.has(id) && !inQueue.has(id));
    assert.deepEqual(lost, [], 'acknowledged messages neither delivered nor in the queue at the kill');
    assert.ok(
      inQueue.has(lastBeforeKill) && !atSink.has(lastBeforeKill),
      `the message acknowledged just before the kill was only in the queue (${atSink.size} of ${load.acknowledged.length} delivered before the kill, ${inQueue.size} queued)`,
    );
    await waitFor(
      `all ${load.acknowledged.length} acknowledged messages at the sink`,
      () => arrivals(s, load.acknowledged).size === load.acknowledged.length,
      60_000,
    );
    await waitFor(
      'the queue to empty',
      async () => (await mta.metric('mtopo_mta_queue_messages')) === 0,
      10_000,
    );
    const duplicates = [...arrivals(s, load.acknowledged).values()].filter((n) => n > 1).length;
    // At least once: a message whose delivery was cut by the kill is sent again. Say how often.
    process.stdout.write(
      `# ${load.acknowledged.length} acknowledged, ${atSink.size} delivered before the kill, ${inQueue.size} queued, ${duplicates} delivered twice\n`,
    );
  });

  it('delivers what was queued for a next hop that was down, after a crash and a restart', async () => {
    await sink?.stop();
    sink = undefined;
    const tag = marker();
    const load = await sendLoad({ port: mta.port, tag, messages: 100, sessions: 5, to: 'bob@example.test' });
    assert.equal(load.acknowledged.length, 100);
    await waitFor(
      'deliveries to be deferred',
      async () => (await mta.metric('mtopo_mta_recipients_total', { outcome: 'deferred' })) > 0,
    );
    await mta.kill();
    mta = await mta.restart();
    assert.ok(
      mta.logs().some((l) => l.msg === 'queue recovered' && (l.messages as number) >= 100),
      'the queue was read back',
    );
    sink = await startSink('sink-2');
    const s = sink;
    await waitFor(
      'every acknowledged message at the sink',
      () => arrivals(s, load.acknowledged).size === 100,
      30_000,
    );
  });
});

describe('SIGTERM', () => {
  it('stops taking mail, keeps the queue, and delivers it after the next start', async () => {
    await sink?.stop();
    sink = undefined;
    const tag = marker();
    const load = await sendLoad({ port: mta.port, tag, messages: 20, sessions: 2, to: 'carol@example.test' });
    assert.equal(load.acknowledged.length, 20);
    // A client holding an idle connection is told to go, rather than keeping the MTA up.
    const idle = await SmtpTranscript.open(mta.port);
    assert.equal((await idle.read()).code, 220);
    await idle.command('EHLO idle.example');
    const started = Date.now();
    const stopped = mta.stop();
    const goodbye = await idle.read(5000);
    assert.equal(goodbye.code, 421);
    assert.match(goodbye.text, /4\.3\.2 /);
    await stopped;
    assert.ok(
      Date.now() - started < 4000,
      `stopped in ${Date.now() - started} ms, without waiting for the idle client`,
    );
    assert.ok(mta.logs().some((l) => l.msg === 'stopped; the queue stays on disk'));
    mta = await mta.restart();
    sink = await startSink('sink-3');
    const s = sink;
    await waitFor('the kept queue to be delivered', () => arrivals(s, load.acknowledged).size === 20, 30_000);
  });
});
