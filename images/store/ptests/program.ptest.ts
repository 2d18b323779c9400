// The store as a program: health and readiness, metrics, STARTTLS on LMTP, refusing a bad config,
// the per-client connection limit, and the drain on SIGTERM (idle sessions told at once, a
// transaction in flight finished, exit 0).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SmtpTranscript } from '../../../testing/peers/smtp-transcript.ts';
import { run } from '../../../testing/support/processes.ts';
import { makeTempDir } from '../../../testing/support/temp-dir.ts';
import { waitFor } from '../../../testing/support/wait.ts';
import { DOMAIN, startStoreProcess } from '../testing/store-process.ts';

const temp = makeTempDir('store-program');
after(() => temp.remove());
const MAIN = new URL('../main.ts', import.meta.url).pathname;

describe('the store program', () => {
  it('answers /healthz, /readyz and /metrics, and speaks LMTP over STARTTLS', async () => {
    const store = await startStoreProcess(join(temp.path, 'health'));
    try {
      assert.equal((await store.http('/healthz')).status, 200);
      assert.equal((await store.http('/readyz')).status, 200);
      const t = await SmtpTranscript.open(store.ports.lmtp);
      await t.read();
      assert.match((await t.command('LHLO tls')).text, /STARTTLS/);
      assert.equal((await t.command('STARTTLS')).code, 220);
      await t.startTls();
      const lhlo = await t.command('LHLO tls');
      assert.doesNotMatch(lhlo.text, /STARTTLS/, 'not offered twice');
      await t.command('MAIL FROM:<>');
      await t.command(`RCPT TO:<tls@${DOMAIN}>`);
      await t.command('DATA');
      t.write('Subject: over TLS\r\n\r\nhi\r\n.\r\n');
      assert.equal((await t.read()).code, 250);
      t.close();
      const metrics = (await store.http('/metrics')).body;
      for (const name of [
        'mtopo_store_sessions',
        'mtopo_store_lmtp_deliveries_total',
        'mtopo_store_stored_bytes_total',
        'mtopo_store_accounts_open',
        'mtopo_store_retained_messages',
        'mtopo_store_index_rebuilds_total',
      ])
        assert.match(metrics, new RegExp(`^${name}`, 'm'), name);
      assert.equal(
        await store.metric('mtopo_store_stored_bytes_total', { how: 'delivery' }),
        'Subject: over TLS\r\n\r\nhi\r\n'.length,
      );
    } finally {
      await store.stop();
    }
  });

  it('refuses a config it cannot use, naming the field', async () => {
    const file = join(temp.path, 'bad.json');
    writeFileSync(file, JSON.stringify({ program: 'store', dataDir: '' }));
    const result = await run(process.execPath, [MAIN, '--config', file]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /dataDir/);
  });

  it('drains on SIGTERM: an idle POP3 session is told at once, an LMTP transaction in flight completes, exit 0', async () => {
    const store = await startStoreProcess(join(temp.path, 'drain'));
    const pop = connect(store.ports.pop3, '127.0.0.1');
    let popText = '';
    pop.on('data', (d: Buffer) => (popText += d.toString()));
    await waitFor('the POP3 greeting', () => popText.startsWith('+OK'));
    const t = await SmtpTranscript.open(store.ports.lmtp);
    await t.read();
    await t.command('LHLO drain');
    await t.command('MAIL FROM:<>');
    await t.command(`RCPT TO:<drain@${DOMAIN}>`);
    await t.command('DATA');
    t.write('Subject: half\r\n\r\n');
    store.process.signal('SIGTERM');
    await waitFor('the idle POP3 session to be told', () => popText.includes('-ERR [SYS/TEMP]'));
    assert.equal(
      (await store.http('/readyz').catch(() => ({ status: 503 }))).status,
      503,
      'not ready while draining',
    );
    t.write('the rest\r\n.\r\n');
    assert.equal((await t.read()).code, 250, 'the transaction in flight is finished');
    t.close();
    pop.destroy();
    assert.equal(await store.process.exitStatus, 0);
  });

  it('keeps memory bounded under 300 connections sending endless lines and unterminated data', async () => {
    const store = await startStoreProcess(join(temp.path, 'memory'));
    const rss = () =>
      Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${store.process.pid}/status`, 'utf8'))![1]) * 1024;
    try {
      const before = rss();
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const sockets = await Promise.all(
        Array.from({ length: 300 }, async (_, i) => {
          const s = connect(i % 2 ? store.ports.lmtp : store.ports.pop3, '127.0.0.1');
          s.on('error', () => undefined);
          await new Promise((r) => s.once('connect', r));
          if (i % 4 === 1) s.write(`LHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<mem@${DOMAIN}>\r\nDATA\r\n`);
          return s;
        }),
      );
      // 4 MiB a connection, 1.2 GiB in all: lines that never end, and (every fourth) data that never ends.
      for (let round = 0; round < 64; round++) {
        for (const s of sockets) s.write(chunk);
        await new Promise((r) => setTimeout(r, 5));
      }
      await new Promise((r) => setTimeout(r, 1000));
      const grown = rss() - before;
      process.stderr.write(`store RSS grew by ${Math.round(grown / 1048576)} MiB under the flood\n`);
      for (const s of sockets) s.destroy();
      assert.ok(grown < 300 * 1024 * 1024, `RSS grew by ${Math.round(grown / 1048576)} MiB`);
      assert.equal((await store.http('/healthz')).status, 200, 'still answering');
    } finally {
      await store.stop();
    }
  });

  it('refuses a client over its connection limit in LMTP words', async () => {
    const store = await startStoreProcess(join(temp.path, 'limit'));
    try {
      const open: SmtpTranscript[] = [];
      for (let i = 0; i < 500; i++) open.push(await SmtpTranscript.open(store.ports.lmtp));
      const over = await SmtpTranscript.open(store.ports.lmtp);
      const reply = await over.read();
      assert.equal(reply.code, 421);
      for (const t of [...open, over]) t.close();
    } finally {
      await store.stop();
    }
  });
});
