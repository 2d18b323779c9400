// The MMP gives memory back once connections stop coming (images/lib/idle-collector.ts): in front of
// our store, on the config rendered for examples/siroe.yaml, with the quiet period shortened and no
// growth asked for, each burst of logins (Python's imaplib) is followed by a collection, logged
// with its pause and what it freed, and nothing is collected before the first connection.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { directoryConfig } from '../../../testing/peers/directory-fixture.ts';
import { startSlapd, type Slapd } from '../../../testing/peers/slapd.ts';
import { makeSelfSignedCertificate } from '../../../testing/peers/tls-fixture.ts';
import { run } from '../../../testing/support/processes.ts';
import { makeTempDir } from '../../../testing/support/temp-dir.ts';
import { waitFor } from '../../../testing/support/wait.ts';
import { PROXY_SECRET, startStoreProcess, type StoreProcess } from '../../store/testing/store-process.ts';
import { startMmpProcess, type MmpProcess } from '../testing/mmp-process.ts';
import { localize, onlySiroeStoreZero, renderedMmpConfig } from '../testing/rendered-config.ts';

const JUNE = { uid: 'june', password: 'june pw', mail: 'june@example.test', mailHost: 'siroe-store-0' };

/** Logs in through the MMP (STARTTLS first, as the MMP asks) and out, `times` times. */
const IMAPLIB_LOGINS = `
import imaplib, ssl, sys
port, user, password, times = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
for _ in range(times):
    c = imaplib.IMAP4('127.0.0.1', port)
    c.starttls(ssl_context=ssl._create_unverified_context())
    c.login(user, password)
    c.select('INBOX')
    c.logout()
print('OK')
`;

describe('the MMP collects memory after a burst of logins', () => {
  const dir = makeTempDir('mmp-idle-collector');
  let slapd: Slapd;
  let store: StoreProcess;
  let mmp: MmpProcess;
  const collections = () => mmp.logs().filter((l) => l.msg === 'memory collected after a busy period');

  before(async () => {
    slapd = await startSlapd(join(dir.path, 'slapd'), [JUNE]);
    store = await startStoreProcess(join(dir.path, 'store'), { domains: ['example.test'] });
    const mmpDir = join(dir.path, 'mmp');
    mkdirSync(mmpDir, { recursive: true });
    const config = await localize(renderedMmpConfig('siroe'), {
      dir: mmpDir,
      directory: directoryConfig(slapd, mmpDir, { cacheTTLSeconds: 60 }),
      stores: await onlySiroeStoreZero({ imapPort: store.ports.imap, pop3Port: store.ports.pop3 }),
      tls: await makeSelfSignedCertificate(mmpDir),
      proxySecret: PROXY_SECRET,
    });
    mmp = await startMmpProcess(config, mmpDir, undefined, { collectWhenQuietMs: 500 });
  });

  after(async () => {
    await mmp?.stop();
    await store?.stop();
    await slapd?.stop();
    dir.remove();
  });

  const logins = async (times: number) => {
    const result = await run('python3', [
      '-c',
      IMAPLIB_LOGINS,
      String(mmp.ports.imap),
      JUNE.uid,
      JUNE.password,
      String(times),
    ]);
    assert.equal(result.stdout.trim(), 'OK', result.stderr);
  };

  test('a collection after each burst, none before the first', async () => {
    assert.equal(collections().length, 0, 'collected before any connection');
    await logins(20);
    // A loaded machine may pause inside a burst for longer than the quiet period: at least one.
    await waitFor('a collection after the first burst', () => collections().length >= 1, 30_000);
    const afterFirst = collections().length;
    await logins(20);
    await waitFor('a collection after the second burst', () => collections().length > afterFirst, 30_000);
    for (const line of collections()) {
      assert.equal(line.level, 'info');
      assert.ok(typeof line.pauseMs === 'number' && line.pauseMs >= 0, JSON.stringify(line));
      assert.ok(typeof line.freedMiB === 'number', JSON.stringify(line));
      assert.ok(typeof line.rssMiB === 'number' && line.rssMiB > 0, JSON.stringify(line));
    }
  });
});
