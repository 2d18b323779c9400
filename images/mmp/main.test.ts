import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { programClosure } from '../build/program-closure.ts';
import { loadConfigInChild } from '../lib/load-config.ts';
import { makeTempDir } from '../../testing/support/temp-dir.ts';
import { renderedMmpConfig } from './testing/rendered-config.ts';

const ROOT = join(import.meta.dirname, '../..');
const MAIN = join(import.meta.dirname, 'main.ts');
const temp = makeTempDir('mmp-main');
after(() => temp.remove());

describe('the MMP checks its config in a child, and zod stays out of its process', () => {
  it('loads no zod with its own modules: the config schemas come only with --check-config', () => {
    const atStart = programClosure(ROOT, 'images/mmp/main.ts', { staticOnly: true });
    assert.ok(atStart.sourceFiles.includes('images/mmp/mmp-server.ts'));
    assert.ok(!atStart.packageDirs.includes('node_modules/zod'), atStart.packageDirs.join(' '));
    assert.ok(!atStart.sourceFiles.includes('images/lib/contract/mmp.ts'));
    // The image still ships them, for the check.
    const shipped = programClosure(ROOT, 'images/mmp/main.ts');
    assert.ok(shipped.packageDirs.includes('node_modules/zod'));
    assert.ok(shipped.sourceFiles.includes('images/lib/contract/mmp.ts'));
  });

  it('gets from --check-config the config the operator rendered, as the schema parses it', () => {
    const path = join(temp.path, 'config.json');
    writeFileSync(path, JSON.stringify(renderedMmpConfig()));
    assert.deepEqual(loadConfigInChild(path, MAIN), renderedMmpConfig());
  });

  it('refuses to start on a bad config, naming the field, before it listens', () => {
    const path = join(temp.path, 'bad.json');
    writeFileSync(path, JSON.stringify({ ...renderedMmpConfig(), listeners: 'imap' }));
    const started = spawnSync(process.execPath, [MAIN, '--config', path, '--listen-host', '127.0.0.1'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(started.status, 1, started.stderr);
    assert.equal(started.stdout, '');
    assert.match(
      started.stderr,
      new RegExp(`^mmp: ${path.replace(/[.]/g, '\\.')} is invalid:\\n {2}listeners: `),
    );
  });
});
