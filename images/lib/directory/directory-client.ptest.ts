// The directory client against a real slapd.
import assert from 'node:assert/strict';
import { waitFor } from '../../../testing/support/wait.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createRegistry } from '../metrics.ts';
import { directoryConfig, USERS } from '../../../testing/peers/directory-fixture.ts';
import { startSlapd, type Slapd } from '../../../testing/peers/slapd.ts';
import { makeTempDir } from '../../../testing/support/temp-dir.ts';
import { isMtopoError } from '../errors.ts';
import { DirectoryClient, directoryMetrics } from './directory-client.ts';
import { startTogether } from '../../../testing/support/processes.ts';

const temp = makeTempDir('directory');
let slapd: Slapd;
let client: DirectoryClient;
const registry = createRegistry('test', false);
const metrics = directoryMetrics(registry);

before(async () => {
  slapd = await startSlapd(join(temp.path, 'slapd'), [
    ...USERS,
    // Two entries claiming one alias: a directory mistake the MTA must not guess about.
    { uid: 'twin1', mail: 'twin1@example.test', aliases: ['twin@example.test'], mailHost: 'store-a' },
    { uid: 'twin2', mail: 'twin2@example.test', aliases: ['twin@example.test'], mailHost: 'store-b' },
  ]);
  client = new DirectoryClient({ config: directoryConfig(slapd, temp.path), metrics });
});

after(async () => {
  await client?.close();
  await slapd?.stop();
  temp.remove();
});

const cacheCount = async (result: string) =>
  (await registry.getSingleMetric('mtopo_directory_cache_lookups_total')?.get())?.values.find(
    (v) => v.labels.result === result,
  )?.value ?? 0;

describe('DirectoryClient against slapd', () => {
  it('finds a recipient by primary address and by alias, with its mailHost', async () => {
    const byMail = await client.findRecipient('alice@example.test');
    assert.equal(byMail?.uid, 'alice');
    assert.equal(byMail?.mailHost, 'store-a');
    assert.deepEqual(byMail?.aliases, ['a.lias@example.test']);
    const byAlias = await client.findRecipient('A.Lias@EXAMPLE.test');
    assert.equal(byAlias?.dn, byMail?.dn);
  });

  it('reads forwarding addresses', async () => {
    assert.deepEqual((await client.findRecipient('carol@example.test'))?.forwardTo, [
      'alice@example.test',
      'bob@example.test',
    ]);
  });

  it('answers null for an unknown address', async () => {
    assert.equal(await client.findRecipient('nobody@example.test'), null);
  });

  it('is not fooled by filter syntax in an address (RFC 4515 injection)', async () => {
    for (const hostile of [
      '*',
      '*@example.test',
      'a*@example.test',
      '*)(uid=*',
      'alice@example.test)(mail=*',
      '\\2a@example.test',
    ]) {
      assert.equal(await client.findRecipient(hostile), null, hostile);
    }
    assert.equal(await client.authenticate('*', 'alice-pw'), null);
    assert.equal(await client.authenticate('a*', 'alice-pw'), null);
  });

  it('reports an address two entries claim as ambiguous, not as one of them', async () => {
    await assert.rejects(client.findRecipient('twin@example.test'), (e) => isMtopoError(e, 'EAMBIGUOUS'));
  });

  it('authenticates by uid or mail with a bind, and takes the identity from the entry', async () => {
    assert.equal((await client.authenticate('alice', 'alice-pw'))?.uid, 'alice');
    assert.equal((await client.authenticate('alice@example.test', 'alice-pw'))?.uid, 'alice');
    // slapd matches uid without regard to case or surrounding spaces; the session still becomes "alice".
    assert.equal((await client.authenticate('ALICE', 'alice-pw'))?.uid, 'alice');
    assert.equal((await client.authenticate(' alice', 'alice-pw'))?.uid, 'alice');
  });

  it('refuses a wrong password, and never binds with an empty one (slapd would take it as anonymous)', async () => {
    assert.equal(await client.authenticate('alice', 'wrong'), null);
    assert.equal(await client.authenticate('alice', ''), null);
    assert.equal(await client.authenticate('nohost', ''), null, 'an entry without a password either');
    assert.equal(await client.authenticate('', ''), null);
  });

  it('caches answers for a short time, and counts hits and misses', async () => {
    const hits = await cacheCount('hit');
    await client.findRecipient('bob@example.test');
    await client.findRecipient('BOB@example.test');
    assert.equal(await cacheCount('hit'), hits + 1);
  });

  it('refuses to start a service bind from an empty password file', async () => {
    const emptyPassword = join(temp.path, 'empty');
    writeFileSync(emptyPassword, '\n');
    const bad = new DirectoryClient({
      config: { ...directoryConfig(slapd, temp.path), passwordFile: emptyPassword },
    });
    await assert.rejects(
      bad.findRecipient('alice@example.test'),
      (e) => isMtopoError(e, 'EDIRECTORY') || isMtopoError(e, 'ESECRET'),
    );
    await bad.close();
  });

  it('says "unavailable", never "no such user", when the directory does not answer', async () => {
    const fresh = new DirectoryClient({
      config: { ...directoryConfig(slapd, temp.path), cacheTTLSeconds: 0, timeoutMs: 500 },
    });
    assert.equal((await fresh.findRecipient('alice@example.test'))?.uid, 'alice');
    await slapd.process.pause();
    try {
      await assert.rejects(fresh.findRecipient('alice@example.test'), (e) => isMtopoError(e, 'EDIRECTORY'));
      await assert.rejects(fresh.ping());
    } finally {
      slapd.process.resume();
    }
    assert.equal(
      (await fresh.findRecipient('alice@example.test'))?.uid,
      'alice',
      'recovers when the directory is back',
    );
    await fresh.close();
  });

  it('fails over to the next URL when the first does not answer', async () => {
    const config = directoryConfig(slapd, temp.path, {
      urls: ['ldap://127.0.0.1:1', slapd.url],
      cacheTTLSeconds: 0,
    });
    const failover = new DirectoryClient({ config });
    assert.equal((await failover.findRecipient('alice@example.test'))?.uid, 'alice');
    await failover.close();
  });
});

describe('DirectoryClient against two slapd servers', () => {
  let first: Slapd;
  let second: Slapd;
  before(async () => {
    [first, second] = await startTogether([
      startSlapd(join(temp.path, 'slapd-1'), USERS, { logOperations: true }),
      startSlapd(join(temp.path, 'slapd-2'), USERS, { logOperations: true }),
    ]);
  });
  after(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
  });

  /** BIND operations slapd logged for `dn`, with the result code of each. */
  const binds = (server: Slapd, dn: string): string[] => {
    const log = server.log();
    const results: string[] = [];
    const seen = new Set<string>();
    // slapd logs a bind twice (method, then mechanism): one operation is one conn/op pair.
    for (const m of log.matchAll(/(conn=\d+ op=\d+) BIND dn="([^"]*)"/g)) {
      if (m[2]!.toLowerCase() !== dn.toLowerCase() || seen.has(m[1]!)) continue;
      seen.add(m[1]!);
      const result = new RegExp(`${m[1]} RESULT tag=97 err=(\\d+)`).exec(log);
      results.push(result?.[1] ?? '?');
    }
    return results;
  };

  it('authenticates on the second URL when the first server is stopped', async () => {
    const config = directoryConfig(first, temp.path, {
      urls: [first.url, second.url],
      cacheTTLSeconds: 0,
      timeoutMs: 1000,
    });
    const both = new DirectoryClient({ config });
    try {
      assert.equal((await both.authenticate('alice', 'alice-pw'))?.uid, 'alice');
      const aliceDN = `uid=alice,ou=people,${first.suffix}`;
      // slapd may write a bind's RESULT line a moment after the client has its answer (seen at
      // load 5: '?'), so each check waits for the log to hold every result.
      const logged = (server: Slapd, count: number) =>
        waitFor(`slapd to log ${count} bind result(s)`, () => {
          const results = binds(server, aliceDN);
          return results.length >= count && !results.includes('?') && results;
        });
      assert.deepEqual(await logged(first, 1), ['0'], 'the first server checked the password');
      await first.stop();
      assert.equal((await both.authenticate('alice', 'alice-pw'))?.uid, 'alice');
      assert.equal(await both.authenticate('alice', 'wrong'), null, 'a wrong password is still refused');
      assert.deepEqual(await logged(second, 2), ['0', '49'], 'the second server checked both');
    } finally {
      await both.close();
    }
  });

  it('binds for an unknown user too, so the answer takes as long as a wrong password', async () => {
    const config = directoryConfig(second, temp.path, { urls: [second.url], cacheTTLSeconds: 0 });
    const client = new DirectoryClient({ config });
    try {
      const before = second.log().length;
      assert.equal(await client.authenticate('nobody-here', 'guess'), null);
      const unknownBinds = second
        .log()
        .slice(before)
        .match(/BIND dn="cn=mtopo-unknown-user,dc=example,dc=test" method=128/g);
      assert.equal(unknownBinds?.length, 1, 'one bind for a user that does not exist');
      // slapd may write the RESULT line a moment after the client has its answer.
      const result = await waitFor('slapd to log the bind result', () => {
        const last = binds(second, 'cn=mtopo-unknown-user,dc=example,dc=test').slice(-1);
        return last[0] !== undefined && last[0] !== '?' && last;
      });
      assert.deepEqual(result, ['49']);
    } finally {
      await client.close();
    }
  });
});

describe('DirectoryClient when the directory server restarts', () => {
  it('binds again on the new connection: readiness and lookups recover, never anonymously', async () => {
    const first = await startSlapd(join(temp.path, 'restart-1'), USERS);
    const port = first.port;
    const config = { ...directoryConfig(first, temp.path), cacheTTLSeconds: 0, timeoutMs: 2_000 };
    const restarted = new DirectoryClient({ config });
    let second: Slapd | undefined;
    try {
      await restarted.ping();
      assert.equal((await restarted.findRecipient('alice@example.test'))?.uid, 'alice');
      await first.stop();
      await assert.rejects(restarted.ping());
      second = await startSlapd(join(temp.path, 'restart-2'), USERS, { port });
      // slapd hides the base from anonymous clients ("no such object"): a ping on a connection that
      // ldapts reopened by itself, unbound, never succeeds.
      await waitFor('the ping to succeed on the restarted server', async () => {
        try {
          await restarted.ping();
          return true;
        } catch {
          return false;
        }
      });
      assert.equal((await restarted.findRecipient('alice@example.test'))?.uid, 'alice');
    } finally {
      await restarted.close();
      await first.stop().catch(() => undefined);
      await second?.stop();
    }
  });
});
