import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isMtopoError } from './errors.ts';
import { waitFor } from '../../testing/support/wait.ts';
import { makeTempDir } from '../../testing/support/temp-dir.ts';
import { makeSelfSignedCertificate } from '../../testing/peers/tls-fixture.ts';
import { readTlsFiles, watchTlsFiles, type TlsMaterial } from './tls-files.ts';

const temp = makeTempDir('tls');
after(() => temp.remove());

describe('TLS files', () => {
  it('refuses a key that does not belong to the certificate', async () => {
    mkdirSync(join(temp.path, 'a'));
    mkdirSync(join(temp.path, 'b'));
    const a = await makeSelfSignedCertificate(join(temp.path, 'a'));
    const b = await makeSelfSignedCertificate(join(temp.path, 'b'));
    assert.ok(readTlsFiles(a).cert.length > 0);
    assert.throws(
      () => readTlsFiles({ certFile: a.certFile, keyFile: b.keyFile }),
      (e) => isMtopoError(e, 'ETLS'),
    );
  });

  it('picks up a renewed certificate without a restart', async () => {
    const dir = join(temp.path, 'live');
    mkdirSync(dir);
    const files = await makeSelfSignedCertificate(dir, 'old.example.test');
    mkdirSync(join(temp.path, 'renewed'));
    const renewed = await makeSelfSignedCertificate(join(temp.path, 'renewed'), 'new.example.test');
    let loaded: TlsMaterial | undefined;
    // Between the two renames the pair does not match; the watcher keeps the old one meanwhile.
    const stop = watchTlsFiles(
      files,
      (m) => (loaded = m),
      () => undefined,
      50,
    );
    try {
      // watchFile takes its baseline stat asynchronously; on a busy machine it could otherwise be
      // taken after the renames below, and then no change would ever be seen.
      await new Promise((resolve) => setTimeout(resolve, 500));
      // Replace both files the way a Secret update does: whole files, atomically.
      renameSync(renewed.keyFile, files.keyFile);
      renameSync(renewed.certFile, files.certFile);
      await waitFor(
        'the watcher to load the new pair',
        () => loaded?.cert.equals(readFileSync(files.certFile)) === true,
        15_000,
      );
    } finally {
      stop();
    }
  });
});
