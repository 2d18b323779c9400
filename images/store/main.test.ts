import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { storeConfig } from '../lib/contract/store.ts';
import { loadConfigInChild } from '../lib/load-config.ts';
import { renderExample } from '../mmp/testing/rendered-config.ts';
import { assertRefusesConfig } from '../../testing/support/program-process.ts';
import { makeTempDir } from '../../testing/support/temp-dir.ts';

const MAIN = join(import.meta.dirname, 'main.ts');
const temp = makeTempDir('store-main');
after(() => temp.remove());

/** The config.json `mtopo render` makes for examples/siroe.yaml's stores, as text. */
function renderedStoreConfigText(): string {
  const map = renderExample('siroe').find(
    (o) => o.kind === 'ConfigMap' && o.metadata.labels?.['app.kubernetes.io/component'] === 'store',
  );
  const text = map?.data?.['config.json'];
  if (!text) throw new Error('examples/siroe.yaml renders no store config');
  return text;
}

describe('the store checks its config in a child (--check-config)', () => {
  it('gets from --check-config the config the operator rendered, as the schema parses it', () => {
    const text = renderedStoreConfigText();
    const path = join(temp.path, 'config.json');
    writeFileSync(path, text);
    assert.deepEqual(loadConfigInChild(path, MAIN), storeConfig.parse(JSON.parse(text)));
  });

  it('refuses to start on a bad config, naming the field, before it listens', () => {
    const path = join(temp.path, 'bad.json');
    writeFileSync(path, JSON.stringify({ ...JSON.parse(renderedStoreConfigText()), dataDir: 7 }));
    assertRefusesConfig(MAIN, 'store', path, 'dataDir');
  });
});
