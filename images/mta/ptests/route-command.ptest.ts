// `mta route ADDRESS`: the program explains where an address goes and why, asking the real directory.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run } from '../../../testing/support/processes.ts';
import { makeTempDir } from '../../../testing/support/temp-dir.ts';
import { testConfig } from '../testing/test-config.ts';
import { startTestSite, type TestSite } from '../testing/site.ts';

const MAIN = new URL('../main.ts', import.meta.url).pathname;
const temp = makeTempDir('route');
let site: TestSite;
let configFile: string;

before(async () => {
  site = await startTestSite(join(temp.path, 'site'));
  const dir = join(temp.path, 'mta');
  mkdirSync(dir, { recursive: true });
  configFile = join(dir, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify(testConfig('inbound', { ...site.overrides(dir), queue: { dir: join(dir, 'spool') } })),
  );
});

after(async () => {
  await site?.stop();
  temp.remove();
});

const route = (address: string, ...flags: string[]) =>
  run(process.execPath, [MAIN, 'route', address, '--config', configFile, ...flags]);

describe('mta route', () => {
  it('names the store and the directory entry that decided it', async () => {
    const result = await route('alice@example.test');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^alice@example\.test from the inbound tier\n/);
    assert.match(result.stdout, /at RCPT TO: accepted \(250\)/);
    assert.match(result.stdout, /→ alice@example\.test: deliver via LMTP 127\.0\.0\.1:\d+/);
    assert.match(
      result.stdout,
      /because alice@example\.test: uid=alice,ou=people,dc=example,dc=test has mailHost store-a, a store of this site/,
    );
  });

  it('follows forwarding to each final destination', async () => {
    const result = await route('carol@example.test', '--json');
    const explanation = JSON.parse(result.stdout) as {
      destinations: { address: string; outcome: string; why: string[] }[];
    };
    assert.deepEqual(
      explanation.destinations.map((d) => [d.address, d.outcome]),
      [
        ['alice@example.test', 'deliver'],
        ['bob@example.test', 'deliver'],
      ],
    );
    assert.match(
      explanation.destinations[0]?.why[0] ?? '',
      /forwards its mail to alice@example\.test, bob@example\.test/,
    );
  });

  it('says a legacy user goes to the gateway, and why', async () => {
    const result = await route('dave@example.test');
    assert.match(result.stdout, /→ dave@example\.test: deliver via SMTP 127\.0\.0\.1:\d+/);
    assert.match(
      result.stdout,
      /mailHost notes1\.legacy\.test, which is not a store of this site: a legacy user, sent to the gateway/,
    );
  });

  it('says what RCPT would answer for an unknown user and a relay attempt', async () => {
    assert.match(
      (await route('ghost@example.test')).stdout,
      /at RCPT TO: refused: 550 5\.1\.1 No such user here/,
    );
    assert.match(
      (await route('victim@elsewhere.example')).stdout,
      /at RCPT TO: refused: 554 5\.7\.1 Relay access denied/,
    );
  });

  it('says the directory is unavailable rather than guessing', async () => {
    await site.slapd.process.pause();
    try {
      const result = await route('bob@example.test');
      assert.match(result.stdout, /refused: 451 4\.4\.3 Directory unavailable/);
    } finally {
      site.slapd.process.resume();
    }
  });

  it('names the config field that is wrong', async () => {
    const bad = join(temp.path, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...testConfig('inbound'), limits: { maxMessageBytes: 0 } }));
    const result = await run(process.execPath, [MAIN, 'route', 'a@example.test', '--config', bad]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /limits\.maxMessageBytes: /);
    assert.match(result.stderr, /limits\.maxRecipients: /);
  });
});
