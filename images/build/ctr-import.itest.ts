// containerd's own client imports what the writer builds: the image is listed under its name, the
// manifest containerd stored points at our config, and its content is complete and unpacked.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { makeTempDir } from '../../testing/support/temp-dir.ts';
import { importImage, ImportError, listImages } from './ctr-import.ts';
import { writeImageArchive } from './oci-archive.ts';
import {
  containerdUnavailable,
  startPrivateContainerd,
  type PrivateContainerd,
} from './testing/private-containerd.ts';

const run = promisify(execFile);
const skip = containerdUnavailable();

describe('ctr images import', { skip }, () => {
  const dir = makeTempDir('ctr-import');
  let containerd: PrivateContainerd;
  before(async () => {
    containerd = await startPrivateContainerd(join(dir.path, 'containerd'));
  });
  after(async () => {
    await containerd?.stop();
    dir.remove();
  });

  test('lists the image under its localhost name, with our config and a complete, unpacked rootfs', async () => {
    const name = 'localhost/mtopo/import-check:1.0.0';
    const built = await writeImageArchive(
      {
        name,
        layers: [
          [{ type: 'file', path: '/bin/program', content: 'not really a program\n', mode: 0o755 }],
          [{ type: 'file', path: '/etc/motd', content: 'second layer\n' }],
        ],
        config: { entrypoint: ['/bin/program'], user: '10001:10001', exposedPorts: [2525] },
      },
      join(dir.path, 'image.tar'),
    );
    await importImage(built.archive, name, containerd.target);
    assert.ok((await listImages(containerd.target)).includes(name));

    const ctr = (...args: string[]) =>
      run('ctr', ['--address', containerd.target.address, '--namespace', 'k8s.io', ...args]);
    const { stdout: listing } = await ctr('images', 'list');
    const row = listing.split('\n').find((line) => line.startsWith(`${name} `));
    assert.ok(row, listing);
    const manifestDigest = row.split(/\s+/).find((field) => field.startsWith('sha256:'));
    assert.ok(manifestDigest, row);
    const { stdout: manifest } = await ctr('content', 'get', manifestDigest);
    const parsed = JSON.parse(manifest) as { config: { digest: string }; layers: { digest: string }[] };
    assert.equal(parsed.config.digest, built.imageId);
    assert.deepEqual(
      parsed.layers.map((layer) => layer.digest),
      built.diffIds,
    );
    const { stdout: check } = await ctr('images', 'check', `name==${name}`);
    assert.match(check, /complete/, check);
    const { stdout: snapshots } = await ctr('snapshots', '--snapshotter', 'native', 'list');
    assert.equal(snapshots.trim().split('\n').length - 1, 2, `one snapshot per layer:\n${snapshots}`);
  });

  test('says which socket it could not reach', async () => {
    await assert.rejects(
      importImage(join(dir.path, 'image.tar'), 'localhost/x:1', {
        address: join(dir.path, 'no-such.sock'),
      }),
      (error: Error) => error instanceof ImportError && error.message.includes('no-such.sock'),
    );
  });
});
