import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { makeTempDir } from '../../testing/support/temp-dir.ts';
import type { LayerEntry } from './layer-entries.ts';
import { writeImageArchive, type ImageSpec } from './oci-archive.ts';
import { writeStaticBinaryImage } from './static-binary-image.ts';
import { readImageArchive, readTar } from './testing/read-archive.ts';

const dir = makeTempDir('oci-archive');
after(() => dir.remove());
let serial = 0;
const out = (): string => join(dir.path, `image-${++serial}.tar`);

const hex = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

const source = join(dir.path, 'program');
writeFileSync(source, '#!/bin/sh\necho hello\n');
chmodSync(source, 0o755);

const ENTRIES: LayerEntry[] = [
  { type: 'file', path: '/usr/local/bin/program', source },
  { type: 'file', path: '/etc/passwd', content: 'mtopo:x:10001:10001::/nonexistent:/sbin/nologin\n' },
  { type: 'directory', path: '/tmp', mode: 0o1777 },
  { type: 'symlink', path: '/usr/bin/program', target: '../local/bin/program' },
  { type: 'file', path: '/opt/app/readme', content: 'read me', mode: 0o600 },
];

const SPEC: ImageSpec = {
  name: 'localhost/mtopo/example:1.0.0',
  layers: [ENTRIES, [{ type: 'file', path: '/opt/app/main.ts', content: 'console.log(1)\n' }]],
  config: {
    entrypoint: ['/usr/local/bin/program'],
    cmd: ['--config', '/etc/config.json'],
    env: { PATH: '/usr/local/bin:/usr/bin', NODE_ENV: 'production' },
    user: '10001:10001',
    workingDir: '/opt/app',
    exposedPorts: [9090, 2525],
    labels: { 'org.opencontainers.image.version': '1.0.0', 'org.opencontainers.image.title': 'example' },
  },
};

describe('the image archive', () => {
  test('holds the docker save manifest, the OCI index and layout, and every blob they name', async () => {
    const built = await writeImageArchive(SPEC, out());
    const archive = await readImageArchive(built.archive);
    assert.deepEqual(
      archive.items.map((item) => item.header.name).filter((name) => !name.startsWith('blobs/sha256/')),
      ['blobs/', 'index.json', 'manifest.json', 'oci-layout'],
    );
    const [docker] = archive.json('manifest.json') as {
      Config: string;
      RepoTags: string[];
      Layers: string[];
    }[];
    assert.deepEqual(docker?.RepoTags, ['localhost/mtopo/example:1.0.0']);
    assert.equal(hex(archive.file(docker.Config)), built.imageId);
    assert.deepEqual(
      docker.Layers.map((layer) => hex(archive.file(layer))),
      built.diffIds,
    );
    const index = archive.json('index.json') as {
      manifests: { digest: string; annotations: Record<string, string> }[];
    };
    assert.equal(index.manifests[0]?.digest, built.manifestDigest);
    assert.equal(index.manifests[0]?.annotations['io.containerd.image.name'], SPEC.name);
    const manifest = JSON.parse(archive.blob(built.manifestDigest).toString()) as {
      config: { digest: string; size: number };
      layers: { digest: string; size: number }[];
    };
    assert.equal(manifest.config.digest, built.imageId);
    assert.deepEqual(
      manifest.layers.map((layer) => [layer.digest, layer.size]),
      built.diffIds.map((id) => [id, archive.blob(id).length]),
    );
    assert.deepEqual(JSON.parse(archive.file('oci-layout').toString()), { imageLayoutVersion: '1.0.0' });
  });

  test('writes the config a runtime reads: platform, user, entrypoint, env sorted, ports, diff IDs', async () => {
    const built = await writeImageArchive(SPEC, out());
    const archive = await readImageArchive(built.archive);
    const config = JSON.parse(archive.blob(built.imageId).toString()) as Record<string, unknown>;
    assert.equal(config.os, 'linux');
    assert.equal(config.architecture, 'amd64');
    assert.deepEqual(config.rootfs, { type: 'layers', diff_ids: built.diffIds });
    assert.deepEqual(config.config, {
      User: '10001:10001',
      ExposedPorts: { '2525/tcp': {}, '9090/tcp': {} },
      Env: ['NODE_ENV=production', 'PATH=/usr/local/bin:/usr/bin'],
      Entrypoint: ['/usr/local/bin/program'],
      Cmd: ['--config', '/etc/config.json'],
      WorkingDir: '/opt/app',
      Labels: { 'org.opencontainers.image.title': 'example', 'org.opencontainers.image.version': '1.0.0' },
    });
    assert.equal('created' in config, false, 'a timestamp would make every build differ');
  });

  test('writes a layer sorted by name, parents first, owned by root, dated 1970, with the given modes', async () => {
    const built = await writeImageArchive(SPEC, out());
    const archive = await readImageArchive(built.archive);
    const layer = await readTar(archive.blob(built.diffIds[0]!));
    assert.deepEqual(
      layer.map((item) => [item.header.name, item.header.type, (item.header.mode ?? 0).toString(8)]),
      [
        ['etc/', 'directory', '755'],
        ['etc/passwd', 'file', '644'],
        ['opt/', 'directory', '755'],
        ['opt/app/', 'directory', '755'],
        ['opt/app/readme', 'file', '600'],
        ['tmp/', 'directory', '1777'],
        ['usr/', 'directory', '755'],
        ['usr/bin/', 'directory', '755'],
        ['usr/bin/program', 'symlink', '777'],
        ['usr/local/', 'directory', '755'],
        ['usr/local/bin/', 'directory', '755'],
        ['usr/local/bin/program', 'file', '755'],
      ],
    );
    for (const { header } of layer) {
      assert.equal(header.mtime?.getTime(), 0, header.name);
      assert.equal(header.uid, 0, header.name);
      assert.equal(header.gid, 0, header.name);
    }
    assert.equal(
      layer.find((item) => item.header.name === 'usr/bin/program')?.header.linkname,
      '../local/bin/program',
    );
    assert.equal(
      layer.find((item) => item.header.name === 'usr/local/bin/program')?.body.toString(),
      '#!/bin/sh\necho hello\n',
    );
  });

  test('keeps names longer than 100 bytes whole', async () => {
    const deep = `/${'d'.repeat(90)}/${'f'.repeat(90)}`;
    const built = await writeImageArchive(
      { name: 'localhost/long:1', layers: [[{ type: 'file', path: deep, content: 'x' }]], config: {} },
      out(),
    );
    const archive = await readImageArchive(built.archive);
    const names = (await readTar(archive.blob(built.diffIds[0]!))).map((item) => item.header.name);
    assert.ok(names.includes(deep.slice(1)), names.join(', '));
  });
});

describe('a build is deterministic', () => {
  test('the same files and config, listed in another order, give the same bytes', async () => {
    const first = await writeImageArchive(SPEC, out());
    const second = await writeImageArchive(
      {
        ...SPEC,
        layers: [[...ENTRIES].reverse(), SPEC.layers[1]!],
        config: { ...SPEC.config, env: { NODE_ENV: 'production', PATH: '/usr/local/bin:/usr/bin' } },
      },
      out(),
    );
    assert.equal(second.archiveDigest, first.archiveDigest);
    assert.equal(second.imageId, first.imageId);
    assert.equal(second.manifestDigest, first.manifestDigest);
  });

  test('one changed byte of content changes the layer and the image', async () => {
    const first = await writeImageArchive(SPEC, out());
    const changed = await writeImageArchive(
      {
        ...SPEC,
        layers: [SPEC.layers[0]!, [{ type: 'file', path: '/opt/app/main.ts', content: 'console.log(2)\n' }]],
      },
      out(),
    );
    assert.equal(changed.diffIds[0], first.diffIds[0], 'the untouched layer keeps its digest');
    assert.notEqual(changed.diffIds[1], first.diffIds[1]);
    assert.notEqual(changed.imageId, first.imageId);
  });

  test('a changed mode or user changes the image', async () => {
    const first = await writeImageArchive(SPEC, out());
    const mode = await writeImageArchive(
      {
        ...SPEC,
        layers: [
          SPEC.layers[0]!,
          [{ type: 'file', path: '/opt/app/main.ts', content: 'console.log(1)\n', mode: 0o755 }],
        ],
      },
      out(),
    );
    const user = await writeImageArchive({ ...SPEC, config: { ...SPEC.config, user: '10002:10002' } }, out());
    assert.notEqual(mode.imageId, first.imageId);
    assert.notEqual(user.imageId, first.imageId);
    assert.deepEqual(user.diffIds, first.diffIds);
  });
});

describe('bad input', () => {
  const bad = async (spec: Partial<ImageSpec>, message: RegExp): Promise<void> => {
    const archive = out();
    await assert.rejects(writeImageArchive({ ...SPEC, ...spec }, archive), message);
    assert.equal(existsSync(archive), false, 'no archive is left behind');
  };

  test('refuses a path listed twice, a relative path, a path through a file, and ..', async () => {
    await bad(
      { layers: [[...ENTRIES, { type: 'file', path: '/etc/passwd', content: '' }]] },
      /lists \/etc\/passwd twice/,
    );
    await bad({ layers: [[{ type: 'file', path: 'etc/passwd', content: '' }]] }, /must be absolute/);
    await bad(
      { layers: [[...ENTRIES, { type: 'file', path: '/etc/passwd/x', content: '' }]] },
      /which is a file/,
    );
    await bad({ layers: [[{ type: 'file', path: '/opt/../etc/shadow', content: '' }]] }, /'\.\.'/);
  });

  test('refuses a name without a tag, a port out of range, a missing source file', async () => {
    await bad({ name: 'localhost/mtopo/mta' }, /with a tag/);
    await bad({ name: 'Localhost/MTA:1' }, /lower-case/);
    await bad({ config: { exposedPorts: [70000] } }, /not a TCP port/);
    await bad({ layers: [[{ type: 'file', path: '/x', source: join(dir.path, 'missing') }]] }, /ENOENT/);
  });

  test('leaves no staging files next to the archive when it fails', async () => {
    const before = readdirSync(dir.path).filter((name) => name.includes('.partial'));
    await bad({ layers: [[{ type: 'file', path: '/x', source: join(dir.path, 'missing') }]] }, /ENOENT/);
    assert.deepEqual(
      readdirSync(dir.path).filter((name) => name.includes('.partial')),
      before,
    );
  });
});

describe('a static binary image', () => {
  test('is one file at the root, run as the entrypoint by a non-root user', async () => {
    const built = await writeStaticBinaryImage(
      { name: 'localhost/mtopo/pause:3.10', binary: source, args: ['-v'] },
      out(),
    );
    const archive = await readImageArchive(built.archive);
    const layer = await readTar(archive.blob(built.diffIds[0]!));
    assert.deepEqual(
      layer.map((item) => [item.header.name, (item.header.mode ?? 0).toString(8)]),
      [['program', '755']],
    );
    const config = JSON.parse(archive.blob(built.imageId).toString()) as { config: Record<string, unknown> };
    assert.deepEqual(config.config, { User: '65532:65532', Entrypoint: ['/program', '-v'] });
  });
});
