// The store's POP3 against real clients: curl (plain, STLS, implicit TLS), Python's poplib and
// fetchmail keeping mail on the server by UIDL. Mail arrives over LMTP from smtp-source.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { run } from '../../../testing/support/processes.ts';
import { DOMAIN, PROXY_SECRET, PROXY_USER } from '../testing/store-process.ts';
import { storeForTests } from '../testing/store-for-tests.ts';
import { curlPop3, poplib } from './peers.ts';

const bed = storeForTests('store-pop3');

async function deliver(user: string, count: number, size = 2048) {
  const result = await run(
    'smtp-source',
    [
      '-L',
      '-s',
      '2',
      '-m',
      String(count),
      '-l',
      String(size),
      '-t',
      user,
      `127.0.0.1:${bed.store.ports.lmtp}`,
    ],
    {
      timeoutMs: 60_000,
    },
  );
  assert.equal(result.code, 0, result.stderr);
}

describe('POP3 with real clients', () => {
  it('curl lists, retrieves, UIDLs and TOPs, in plain text, after STLS and over implicit TLS', async () => {
    const user = `curl@${DOMAIN}`;
    await deliver(user, 3);
    assert.match(await curlPop3(bed.store.ports.pop3, user, '/'), /^1 \d+\r\n2 \d+\r\n3 \d+\r\n$/);
    const message = await curlPop3(bed.store.ports.pop3, user, '/2');
    assert.match(message, /^From: /);
    assert.match(
      await curlPop3(bed.store.ports.pop3, user, '/', ['-X', 'UIDL']),
      /^1 \d+\.1\r\n2 \d+\.2\r\n3 \d+\.3\r\n$/,
    );
    const top = await curlPop3(bed.store.ports.pop3, user, '/', ['-X', 'TOP 2 0']);
    assert.equal(top, message.slice(0, message.indexOf('\r\n\r\n') + 4));
    const overStls = await curlPop3(bed.store.ports.pop3, user, '/2', [
      '--ssl-reqd',
      '--cacert',
      bed.store.caFile,
    ]);
    assert.equal(overStls, message);
    const implicit = await run('curl', [
      '-sS',
      `pop3s://127.0.0.1:${bed.store.ports.pop3s}/2`,
      '--cacert',
      bed.store.caFile,
      '--user',
      `${user}*${PROXY_USER}:${PROXY_SECRET}`,
    ]);
    assert.equal(implicit.code, 0, implicit.stderr);
    assert.equal(implicit.stdout, message);
  });

  it('poplib logs in over STLS and implicit TLS, and a wrong secret is refused with [AUTH]', async () => {
    const user = `py@${DOMAIN}`;
    await deliver(user, 2);
    for (const tls of ['stls', 'ssl'] as const) {
      const out = await poplib({
        port: tls === 'ssl' ? bed.store.ports.pop3s : bed.store.ports.pop3,
        user,
        tls,
        caFile: bed.store.caFile,
        body: 'print(json.dumps([p.stat(), [l.decode() for l in p.uidl()[1]], list(p.capa().keys())]))\np.quit()',
      });
      const [stat, uidl, capa] = JSON.parse(out) as [[number, number], string[], string[]];
      assert.equal(stat[0], 2);
      assert.equal(uidl.length, 2);
      assert.ok(capa.includes('UIDL') && capa.includes('RESP-CODES'), capa.join(' '));
    }
    const refused = await run('python3', [
      '-c',
      `import poplib\np = poplib.POP3('127.0.0.1', ${bed.store.ports.pop3})\np.user('${user}*${PROXY_USER}')\ntry:\n  p.pass_('wrong')\nexcept poplib.error_proto as e:\n  print(e)`,
    ]);
    assert.match(refused.stdout, /-ERR \[AUTH\] Authentication failed/);
  });

  it('fetchmail with UIDL keep fetches each message once, over STLS with the certificate checked', async () => {
    const user = `fm@${DOMAIN}`;
    await deliver(user, 4, 4096);
    const out = join(bed.dir, 'fetchmail.out');
    const rc = join(bed.dir, 'fetchmailrc');
    writeFileSync(
      rc,
      `poll 127.0.0.1 service ${bed.store.ports.pop3} protocol POP3 uidl auth password\n` +
        `  user "${user}*${PROXY_USER}" password "${PROXY_SECRET}" keep sslproto "tls1.2+" sslcertck sslcertfile "${bed.store.caFile}" sslcommonname "localhost"\n` +
        `  mda "cat >> ${out}"\n`,
    );
    chmodSync(rc, 0o600);
    const fetch = () =>
      run('fetchmail', ['-f', rc, '--idfile', join(bed.dir, 'fetchids'), '--nosyslog', '-N', '-d0'], {
        env: { ...process.env, HOME: bed.dir },
        timeoutMs: 60_000,
      });
    const first = await fetch();
    assert.equal(first.code, 0, first.stderr + first.stdout);
    assert.equal(readFileSync(out, 'utf8').match(/^From: /gm)?.length, 4);
    const second = await fetch();
    // fetchmail exits 1 when there was no new mail: the second run fetched nothing.
    assert.equal(second.code, 1, second.stderr + second.stdout);
    assert.equal(readFileSync(out, 'utf8').match(/^From: /gm)?.length, 4);
    assert.ok(existsSync(join(bed.dir, 'fetchids')));
    await deliver(user, 1);
    assert.equal((await fetch()).code, 0);
    assert.equal(readFileSync(out, 'utf8').match(/^From: /gm)?.length, 5, 'only the new message');
  });

  it('streams a 5 MB message to a slow reader with backpressure, whole', async () => {
    const user = `big@${DOMAIN}`;
    await deliver(user, 1, 5_000_000);
    const listed = await curlPop3(bed.store.ports.pop3, user, '/');
    const size = Number(/^1 (\d+)/.exec(listed)![1]);
    assert.ok(size > 4_000_000, `the message is big: ${size} octets`);
    const out = join(bed.dir, 'big.eml');
    const slow = await run(
      'curl',
      [
        '-sS',
        '--limit-rate',
        '20M',
        '-o',
        out,
        `pop3://127.0.0.1:${bed.store.ports.pop3}/1`,
        '--user',
        `${user}*${PROXY_USER}:${PROXY_SECRET}`,
      ],
      {
        timeoutMs: 60_000,
      },
    );
    assert.equal(slow.code, 0, slow.stderr);
    assert.equal(readFileSync(out).length, size, 'every octet LIST announced arrived');
  });

  it('turns DELE + QUIT into one expunge while deliveries keep arriving', async () => {
    const user = `del@${DOMAIN}`;
    await deliver(user, 3);
    const out = await poplib({
      port: bed.store.ports.pop3,
      user,
      tls: 'plain',
      body: [
        'p.dele(1)',
        'p.dele(3)',
        // A delivery during the session is not in this maildrop (RFC 1939: the drop is fixed at login).
        `import subprocess\nsubprocess.run(['smtp-source', '-L', '-m', '1', '-t', '${user}', '127.0.0.1:${bed.store.ports.lmtp}'], check=True)`,
        'before = p.stat()',
        'p.quit()',
        'print(json.dumps(before))',
      ].join('\n'),
    });
    assert.equal((JSON.parse(out) as [number, number])[0], 1);
    const after = await poplib({
      port: bed.store.ports.pop3,
      user,
      tls: 'plain',
      body: 'print(json.dumps(p.stat()))\np.quit()',
    });
    assert.equal((JSON.parse(after) as [number, number])[0], 2, 'message 2 and the new one are left');
    assert.ok((await bed.store.metric('mtopo_store_sessions_total', { protocol: 'pop3' })) >= 2);
  });
});
