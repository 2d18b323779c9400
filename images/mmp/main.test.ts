import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfigInChild } from '../lib/load-config.ts';
import { assertRefusesConfig } from '../../testing/support/program-process.ts';
import { makeTempDir } from '../../testing/support/temp-dir.ts';
import { renderedMmpConfig } from './testing/rendered-config.ts';

const MAIN = join(import.meta.dirname, 'main.ts');
const temp = makeTempDir('mmp-main');
after(() => temp.remove());

describe('the MMP checks its config in a child (--check-config)', () => {
  it('gets from --check-config the config the operator rendered, as the schema parses it', () => {
    const path = join(temp.path, 'config.json');
    writeFileSync(path, JSON.stringify(renderedMmpConfig()));
    assert.deepEqual(loadConfigInChild(path, MAIN), renderedMmpConfig());
  });

  it('refuses to start on a bad config, naming the field, before it listens', () => {
    const path = join(temp.path, 'bad.json');
    writeFileSync(path, JSON.stringify({ ...renderedMmpConfig(), listeners: 'imap' }));
    assertRefusesConfig(MAIN, 'mmp', path, 'listeners');
  });
});
